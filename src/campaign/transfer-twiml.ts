/**
 * Warm-transfer TwiML, pure: the caller's hold in a named conference (no hold music), the whisper the
 * human hears before joining (who, why, what was captured), and the endings. Every value is escaped.
 */
import { xmlEscape } from "../telephony/twiml";
import type { TransferContext } from "./transfer-token";

const HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>';
const TAIL = "</Response>";

/** Default line the caller hears while the human's phone rings. */
export const DEFAULT_HOLD_LINE =
  "Thanks. I'm putting you through to a colleague now; please hold for a moment.";

/** Conference name for one transfer: derived from the caller's CallSid, so a retry joins the same room. */
export function conferenceName(callSid: string): string {
  return `wt-${callSid}`;
}

/**
 * The caller's TwiML: a short line, then a wait in the named conference with `waitUrl=""` (silence, no
 * hold music) that starts when the human joins; the conference ends when either side leaves, and
 * `actionUrl` says what the caller hears after it.
 */
export function callerHoldTwiml(q: { conference: string; holdLine: string; actionUrl: string }): string {
  return (
    `${HEAD}<Say language="en-GB">${xmlEscape(q.holdLine)}</Say>` +
    `<Dial action="${xmlEscape(q.actionUrl)}" method="POST">` +
    `<Conference startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" waitUrl="">` +
    `${xmlEscape(q.conference)}</Conference></Dial>${TAIL}`
  );
}

/** The spoken context: "Call transfer from the voice agent. Jo Bloggs. Wants a quote. They told us: ...". */
export function whisperText(ctx: TransferContext): string {
  const captured = Object.entries(ctx.captured)
    .filter(([, v]) => v.trim() !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`)
    .join("; ");
  const parts = [
    "Call transfer from the voice agent.",
    ctx.who ? `Caller: ${ctx.who}.` : "",
    ctx.why ? `Reason: ${ctx.why}.` : "",
    captured ? `Captured: ${captured}.` : "",
    "Connecting you now.",
  ];
  return parts.filter(Boolean).join(" ");
}

/** The human's TwiML (the agent leg's answer URL): the whisper, then into the caller's conference. */
export function whisperTwiml(q: { conference: string; context: TransferContext }): string {
  return (
    `${HEAD}<Say language="en-GB">${xmlEscape(whisperText(q.context))}</Say>` +
    `<Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true" beep="false">` +
    `${xmlEscape(q.conference)}</Conference></Dial>${TAIL}`
  );
}

/** After the conference: the conversation happened, so the caller's leg ends politely. */
export function transferEndedTwiml(): string {
  return `${HEAD}<Say language="en-GB">Thank you for calling. Goodbye.</Say><Hangup/>${TAIL}`;
}

/** A request whose signed parameters are missing or stale: never silence, never a stack trace. */
export function transferUnavailableTwiml(): string {
  return `${HEAD}<Say language="en-GB">Sorry, this transfer is no longer available. Goodbye.</Say><Hangup/>${TAIL}`;
}

/** All warm-transfer TwiML in one place, for the call engine and the routes. */
export const warmTransferTwiml = {
  callerHold: callerHoldTwiml,
  whisper: whisperTwiml,
  ended: transferEndedTwiml,
  unavailable: transferUnavailableTwiml,
};
