/** Maps the flow interpreter's log records and the engine's own facts onto audit-trail event types. */
import type { FlowLogEvent } from "../flow/types";
import { EVENT_TYPES } from "../store/call-event";
import type { CallEventInput } from "../store/outbox";
import type { CallMeta } from "./ports";

/** The other party's number: whose consent and opt-out the call records. */
export function counterpartNumber(meta: CallMeta): string {
  return meta.direction.startsWith("outbound") ? meta.to : meta.from;
}

/** One flow log record as an audit event. */
export function flowLogToEvent(meta: CallMeta, log: FlowLogEvent, atMs: number): CallEventInput {
  const base = { callSid: meta.callSid, atMs };
  const { type, ...all } = log;
  // Empty and null fields (e.g. `from` of the first transition) are left out rather than stored as "".
  const rest = Object.fromEntries(
    Object.entries(all).filter(([, v]) => v !== null && v !== "" && v !== undefined),
  );
  switch (type) {
    case "state_transition":
      return { ...base, type: EVENT_TYPES.stateTransition, payload: { ...rest } };
    case "opt_out":
      return {
        ...base,
        type: EVENT_TYPES.optOutRecorded,
        payload: { phone: counterpartNumber(meta), source: "call", ...rest },
      };
    case "consent":
      return {
        ...base,
        type: EVENT_TYPES.consentRecorded,
        payload: {
          phone: counterpartNumber(meta),
          kind: String(rest.kind ?? "call"),
          granted: rest.granted !== false,
          ...rest,
        },
      };
    case "amd":
      return {
        ...base,
        type: EVENT_TYPES.amdResult,
        payload: { answeredBy: String(rest.result ?? "unknown"), ...rest },
      };
    default:
      return { ...base, type: `flow.${type}`, payload: { ...rest } };
  }
}

/** The first event of a call. */
export function callStartedEvent(meta: CallMeta): CallEventInput {
  return {
    callSid: meta.callSid,
    atMs: meta.startedAtMs,
    type: EVENT_TYPES.callStarted,
    payload: {
      direction: meta.direction.startsWith("outbound") ? "outbound" : "inbound",
      from: meta.from || undefined,
      to: meta.to || undefined,
      campaignId: meta.campaign ?? undefined,
      flowId: meta.flowId,
    },
  };
}
