/**
 * The audit-trail event: what the call Durable Object records on every transition, and the payload shapes
 * of the event types that are projected into the queryable tables (calls, turns, consents, ...).
 * Pure: no I/O.
 */
import { z } from "zod";

/** One event. `id` is globally unique (a UUID); `seq` increases per call; `atMs` is epoch milliseconds. */
export interface CallEvent {
  id: string;
  callSid: string;
  seq: number;
  type: string;
  atMs: number;
  payload: Record<string, unknown>;
}

/** Event type names with a projection or a special outbox policy. Other types are stored in call_events only. */
export const EVENT_TYPES = {
  callStarted: "call.started",
  callEnded: "call.ended",
  stateTransition: "state.transition",
  amdResult: "amd.result",
  turnLatency: "turn.latency",
  consentRecorded: "consent.recorded",
  optOutRecorded: "opt_out.recorded",
  bookingCreated: "booking.created",
  bookingUpdated: "booking.updated",
  leadCaptured: "lead.captured",
} as const;

/** Types the outbox must never drop, whatever its size (UK compliance: consent and opt-out). */
export const CRITICAL_EVENT_TYPES: ReadonlySet<string> = new Set([
  EVENT_TYPES.consentRecorded,
  EVENT_TYPES.optOutRecorded,
]);

/** Whether an event must survive every outbox policy. */
export function isCriticalEvent(type: string): boolean {
  return CRITICAL_EVENT_TYPES.has(type);
}

/** E.164, as stored in suppressions/consents. */
export const E164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, "phone must be E.164");
const optText = z.string().min(1).optional();
const optMs = z.number().int().nonnegative().optional();
const isoInstant = z.iso.datetime({ offset: true });

/** Payload schemas for projected types. A payload that fails its schema is still stored in call_events. */
export const PAYLOAD_SCHEMAS = {
  [EVENT_TYPES.callStarted]: z.object({
    direction: z.enum(["inbound", "outbound"]).optional(),
    from: optText,
    to: optText,
    campaignId: optText,
    leadId: optText,
    flowId: optText,
  }),
  [EVENT_TYPES.callEnded]: z.object({
    outcome: z.string().min(1),
    reason: optText,
    durationMs: optMs,
    answeredBy: optText,
  }),
  [EVENT_TYPES.stateTransition]: z.object({ from: optText, to: z.string().min(1) }),
  [EVENT_TYPES.amdResult]: z.object({ answeredBy: z.string().min(1) }),
  [EVENT_TYPES.turnLatency]: z.looseObject({
    turn: z.number().int().nonnegative(),
    path: optText,
    endpointingMs: optMs,
    llmFirstTokenMs: optMs,
    ttsFirstAudioMs: optMs,
    overheadMs: optMs,
    totalMs: optMs,
  }),
  [EVENT_TYPES.consentRecorded]: z.object({
    phone: E164,
    kind: z.string().min(1),
    granted: z.boolean().default(true),
    text: optText,
  }),
  [EVENT_TYPES.optOutRecorded]: z.object({ phone: E164, source: z.string().min(1).default("call") }),
  [EVENT_TYPES.bookingCreated]: z.object({
    uid: z.string().min(1),
    start: isoInstant,
    end: isoInstant.optional(),
    status: z.string().min(1).default("accepted"),
    attendee: z.object({ name: optText, email: optText, phone: optText }).optional(),
  }),
  [EVENT_TYPES.leadCaptured]: z.object({
    leadId: optText,
    name: optText,
    email: optText,
    phone: optText,
    intent: optText,
    source: optText,
    crmContactId: optText,
  }),
} as const;

/** zod schema for a whole event, for validating anything read back from storage or the wire. */
export const CallEventSchema = z.object({
  id: z.string().min(1),
  callSid: z.string().min(1),
  seq: z.number().int().nonnegative(),
  type: z.string().min(1),
  atMs: z.number().int().nonnegative(),
  payload: z.record(z.string(), z.unknown()),
});
