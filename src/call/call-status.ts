/**
 * Twilio's call status callbacks as audit events. Callbacks may come late, out of order or more than
 * once (protocols.md §4): only a terminal status ends the call, and the `call.ended` event has one id
 * per call, so a repeated callback is stored once (the outbox and Postgres both ignore a known id).
 */
import { step } from "../flow/interpreter";
import type { Flow } from "../flow/schema";
import type { FlowSnapshot } from "../flow/types";
import { EVENT_TYPES } from "../store/call-event";
import type { CallEventInput } from "../store/outbox";
import { flowLogToEvent } from "./events";
import type { CallRecord } from "./ports";

/** Statuses after which the call is over. */
export const TERMINAL_CALL_STATUSES: ReadonlySet<string> = new Set([
  "completed",
  "busy",
  "failed",
  "no-answer",
  "canceled",
]);

/** The `call.ended` event for a terminal status callback, or null for a status that does not end the call. */
export function callEndedEvent(
  callSid: string,
  status: string,
  durationSeconds: number | null,
  snapshot: FlowSnapshot | undefined,
  nowMs: number,
): CallEventInput | null {
  if (!TERMINAL_CALL_STATUSES.has(status)) return null;
  const outcome = status === "completed" ? (snapshot?.endReason ?? "completed") : status;
  return {
    id: `${callSid}:${EVENT_TYPES.callEnded}`,
    callSid,
    atMs: nowMs,
    type: EVENT_TYPES.callEnded,
    payload: {
      outcome,
      reason: status,
      ...(durationSeconds === null ? {} : { durationMs: durationSeconds * 1000 }),
    },
  };
}

/**
 * The caller hung up while no instance of the call's Durable Object was running it (between an eviction
 * and the next frame, or after a socket dropped): close the stored flow as the engine would have, so the
 * record does not stay "active" forever. Null when the flow had already ended.
 */
export function closeStoredCall(
  record: CallRecord,
  flow: Flow,
  nowMs: number,
): { record: CallRecord; events: CallEventInput[] } | null {
  if (record.snapshot.status === "ended") return null;
  const { snapshot, effects } = step(flow, record.snapshot, { type: "caller_hangup" }, nowMs);
  const events = effects.flatMap((e) =>
    e.type === "log" ? [flowLogToEvent(record.meta, e.event, nowMs)] : [],
  );
  return { record: { ...record, snapshot }, events };
}
