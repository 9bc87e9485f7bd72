/**
 * Whether each caller turn got an answer: finds the turns the caller took (handled, dropped by the engine,
 * or ignored by the flow) and the agent's responses (a line, a flow step, the agent ending the call), and
 * judges every turn against the turn budget. Pure: sorted events in, judged turns out.
 */
import type { QaEvent } from "./call-facts";

/** How one caller turn went. */
export type TurnAnswer =
  /** The agent responded within the budget. */
  | "answered"
  /** No response within the budget: the agent responded late, or never. */
  | "unanswered"
  /** The caller hung up within the budget, before any response: not the agent's fault. */
  | "caller_hung_up"
  /** Spoken after the agent had ended the call (a goodbye over the closing line). */
  | "after_end"
  /** The log ends within the budget and the call has not ended yet: not judged. */
  | "pending";

/** One caller turn and its verdict. */
export interface JudgedTurn {
  event: QaEvent;
  /** Where the engine stood: the flow state of the turn (when recorded). */
  state: string | undefined;
  answer: TurnAnswer;
  /** The agent's first response after the turn, if any. */
  response: QaEvent | undefined;
  /** Why, in words, for the scorecard's evidence. */
  detail: string;
}

/** Caller speech: handled (`flow.turn`), received while not listening (`turn.dropped`), or ignored by the flow. */
export function isCallerTurn(e: QaEvent): boolean {
  if (e.type === "flow.turn") return e.payload.source !== "dtmf";
  if (e.type === "turn.dropped") return true;
  return e.type === "flow.event_ignored" && e.payload.event === "intent";
}

/** The agent ended the call (hang-up or transfer it chose): not the caller hanging up. */
function isAgentEnd(e: QaEvent): boolean {
  if (e.type === "call.control") return true;
  return e.type === "flow.call_ended" && e.payload.reason !== "caller_hangup";
}

/** Something the caller could hear or the flow did in reply: a line started, a flow step, the agent's hang-up. */
export function isAgentResponse(e: QaEvent): boolean {
  return (
    e.type === "agent.line" || e.type === "state.transition" || e.type === "dtmf.disagreed" || isAgentEnd(e)
  );
}

/** The caller (or the network) ended the call. */
function isCallerEnd(e: QaEvent): boolean {
  return e.type === "call.ended" || (e.type === "flow.call_ended" && e.payload.reason === "caller_hangup");
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Judge every caller turn of a call; `events` must be in call order (seq). */
export function judgeTurns(events: readonly QaEvent[], budgetMs: number): JudgedTurn[] {
  const out: JudgedTurn[] = [];
  let ended = false;
  const last = events[events.length - 1];
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e === undefined) continue;
    if (isAgentEnd(e) || isCallerEnd(e)) ended = true;
    if (!isCallerTurn(e)) continue;
    const state = typeof e.payload.state === "string" ? e.payload.state : undefined;
    const judged = (answer: TurnAnswer, detail: string, response?: QaEvent) =>
      out.push({ event: e, state, answer, response, detail });
    if (ended) {
      judged("after_end", "spoken after the call had ended");
      continue;
    }
    const later = events.slice(i + 1);
    const response = later.find(isAgentResponse);
    const end = later.find(isCallerEnd);
    const responseMs = response === undefined ? undefined : response.atMs - e.atMs;
    if (responseMs !== undefined && responseMs <= budgetMs) {
      judged("answered", `answered after ${responseMs} ms`, response);
      continue;
    }
    const endMs = end === undefined ? undefined : end.atMs - e.atMs;
    const endFirst = end !== undefined && (response === undefined || end.seq < response.seq);
    if (endFirst && endMs !== undefined && endMs <= budgetMs) {
      judged("caller_hung_up", `the caller hung up ${endMs} ms later, within the ${budgetMs} ms budget`);
      continue;
    }
    if (responseMs !== undefined) {
      judged(
        "unanswered",
        `no response within ${budgetMs} ms (first one after ${secs(responseMs)})`,
        response,
      );
      continue;
    }
    if (endMs !== undefined) {
      judged("unanswered", `no response before the call ended ${secs(endMs)} later`);
      continue;
    }
    const coveredMs = (last?.atMs ?? e.atMs) - e.atMs;
    if (coveredMs > budgetMs) judged("unanswered", `no response in the ${secs(coveredMs)} the log covers`);
    else judged("pending", "the call goes on; no response yet");
  }
  return out;
}

/** `m:ss.s` from the call's start, for evidence a person reads next to the recording. */
export function callClock(offsetMs: number): string {
  const t = Math.max(0, offsetMs);
  const m = Math.floor(t / 60_000);
  const s = ((t % 60_000) / 1000).toFixed(1).padStart(4, "0");
  return `${m}:${s}`;
}
