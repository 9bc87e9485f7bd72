/** The reference architecture's live call state (Redis, call-SID keyed) derived from the stored call record. */
import type { CallState } from "../store/call-state";
import type { CallRecord } from "./ports";

/** Project a call record onto the Redis shape. Pure. */
export function liveCallState(record: CallRecord, nowMs: number): CallState {
  const { snapshot, progress } = record;
  const vars = snapshot.vars;
  return {
    call_sid: record.callSid,
    state: snapshot.state,
    turns: progress.turns,
    captured: { ...vars },
    slot_proposed: vars.slot ?? vars.slot_1 ?? null,
    consent_given: progress.consentGiven,
    opted_out: snapshot.optedOut,
    transfer_attempted: progress.transferAttempted,
    updated_at: nowMs,
  };
}
