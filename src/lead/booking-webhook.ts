/**
 * Cal.com booking webhook body: the zod schema, the triggers we act on, and the pure mapping to a
 * booking record and to the claim keys that make each effect happen once. No I/O, no clock.
 */
import { z } from "zod";
import { normalisePhone } from "../integrations/lead";
import type { BookingRecord } from "./records";

/** Triggers that change a booking. Other Cal.com triggers (PING, MEETING_ENDED, ...) are acknowledged and ignored. */
export const BOOKING_TRIGGERS = ["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"] as const;
export type BookingTrigger = (typeof BOOKING_TRIGGERS)[number];

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const instant = z.iso.datetime({ offset: true, error: "must be an ISO 8601 instant" });

const attendeeSchema = z.looseObject({
  name: z.string().trim().max(200).optional(),
  email: z.email({ error: "attendee email must be a valid email address" }),
  timeZone: z.string().optional(),
  phoneNumber: z.string().max(40).nullable().optional(),
});

/** The parts of a Cal.com webhook delivery this service reads (others are kept but unused). */
export const calWebhookSchema = z.object({
  triggerEvent: z.enum(BOOKING_TRIGGERS, { error: "triggerEvent is not a booking trigger" }),
  createdAt: z.string().optional(),
  payload: z.looseObject({
    uid: z
      .string({ error: "payload.uid is required" })
      .regex(/^[A-Za-z0-9_-]{1,128}$/, { error: "payload.uid must be 1-128 letters, digits, _ or -" }),
    startTime: instant,
    endTime: instant,
    attendees: z.array(attendeeSchema).min(1, { error: "payload.attendees must name at least one attendee" }),
    title: z.string().max(500).optional(),
    rescheduleUid: z.string().max(128).nullable().optional(),
    fromReschedule: z.string().max(128).nullable().optional(),
    // A malformed callSid is treated as absent: the booking is still real and must be recorded.
    metadata: z
      .looseObject({ callSid: z.string().regex(CALL_SID).optional().catch(undefined) })
      .nullable()
      .optional(),
  }),
});
export type CalWebhook = z.infer<typeof calWebhookSchema>;

/** Result of reading a verified body. */
export type CalWebhookParse =
  | { kind: "booking"; webhook: CalWebhook }
  | { kind: "ignored"; trigger: string }
  | { kind: "invalid"; issues: { path: string; message: string }[] };

/** Parse the raw (already signature-checked) body. Never throws. */
export function parseCalWebhook(raw: string): CalWebhookParse {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { kind: "invalid", issues: [{ path: "", message: "body must be JSON" }] };
  }
  const trigger = (body as { triggerEvent?: unknown } | null)?.triggerEvent;
  if (typeof trigger === "string" && !(BOOKING_TRIGGERS as readonly string[]).includes(trigger)) {
    return { kind: "ignored", trigger: trigger.slice(0, 64) };
  }
  const r = calWebhookSchema.safeParse(body);
  if (r.success) return { kind: "booking", webhook: r.data };
  return {
    kind: "invalid",
    issues: r.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
  };
}

/** The booking record a delivery describes. */
export function bookingRecordOf(w: CalWebhook, atMs: number): BookingRecord {
  const p = w.payload;
  const a = p.attendees[0];
  const phone = a?.phoneNumber ? normalisePhone(a.phoneNumber) : undefined;
  const replaces = p.rescheduleUid ?? p.fromReschedule ?? undefined;
  return {
    uid: p.uid,
    trigger: w.triggerEvent,
    callSid: p.metadata?.callSid ?? undefined,
    startIso: new Date(Date.parse(p.startTime)).toISOString(),
    endIso: new Date(Date.parse(p.endTime)).toISOString(),
    status: w.triggerEvent === "BOOKING_CANCELLED" ? "cancelled" : "accepted",
    attendee: { name: a?.name || undefined, email: a?.email ?? "", phone },
    replacesUid:
      w.triggerEvent === "BOOKING_RESCHEDULED" && replaces && replaces !== p.uid ? replaces : undefined,
    atMs,
  };
}

/** Claim key of one delivery: replays of it are acknowledged and change nothing. */
export function deliveryClaimKey(uid: string, trigger: BookingTrigger): string {
  return `cal-webhook:${uid}:${trigger}`;
}

/** Claim key of the CRM meeting for a booking uid: at most one meeting per booking, whoever asks. */
export function meetingClaimKey(uid: string): string {
  return `crm-meeting:${uid}`;
}

/** Claim key of the CRM cancellation note for a booking uid. */
export function cancelNoteClaimKey(uid: string): string {
  return `crm-cancel:${uid}`;
}

/** How long delivery and meeting claims are kept: past Cal.com's retry horizon with a wide margin. */
export const BOOKING_CLAIM_TTL_SECONDS = 30 * 86_400;
