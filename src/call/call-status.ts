/**
 * Twilio's call status callbacks as audit events. Callbacks may come late, out of order or more than
 * once (protocols.md §4): only a terminal status ends the call, and the `call.ended` event has one id
 * per call, so a repeated callback is stored once (the outbox and Postgres both ignore a known id).
 */
import type { FlowSnapshot } from "../flow/types";
import { EVENT_TYPES } from "../store/call-event";
import type { CallEventInput } from "../store/outbox";

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
