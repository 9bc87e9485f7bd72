/**
 * Reads one call's audit events into the facts the scorecard, the transcript and the rollups judge:
 * transitions, pitches, disclosures, consents, AMD, opt-outs, clarity signals, latencies and the outcome.
 * Pure: events in, plain data out.
 */
import { percentile } from "../turn/latency";
import type { QaConfig } from "./config";
import { type JudgedTurn, judgeTurns } from "./turn-answers";

/** One audit event as the QA modules need it (a `CallEvent` or a `call_events` row read back). */
export interface QaEvent {
  id: string;
  seq: number;
  type: string;
  atMs: number;
  payload: Record<string, unknown>;
}

/** A reference to the event that proves something, with a short reason. */
export interface Evidence {
  eventId?: string;
  seq?: number;
  /** When it happened (epoch ms), where the time itself is the evidence (an unanswered turn). */
  atMs?: number;
  reason: string;
}

/** A state entered. */
export interface Transition {
  event: QaEvent;
  from: string | null;
  to: string;
  trigger: string;
}

/** Everything the QA modules read from one call's events. */
export interface CallFacts {
  events: QaEvent[];
  started: QaEvent | undefined;
  ended: QaEvent | undefined;
  flowId: string | undefined;
  direction: "inbound" | "outbound" | undefined;
  campaignId: string | undefined;
  transitions: Transition[];
  pitches: Transition[];
  disclosures: { ai: QaEvent[]; recording: QaEvent[] };
  consents: QaEvent[];
  amdResults: QaEvent[];
  optOutRequests: QaEvent[];
  suppressions: QaEvent[];
  reprompts: QaEvent[];
  lowConfidence: QaEvent[];
  bargeIns: QaEvent[];
  longSilences: QaEvent[];
  turnLatencies: { event: QaEvent; totalMs: number }[];
  /** Every caller turn, judged answered or not within `config.answered.turnBudgetMs`. */
  callerTurns: JudgedTurn[];
  /** The caller turns that got no answer (the dead-call signal). */
  unansweredTurns: JudgedTurn[];
  p50Ms: number | null;
  p95Ms: number | null;
  outcome: { outcome: string; evidence: Evidence[]; bookingConfirmed: boolean | null };
}

/** States that end a call with a known outcome (the shipped flows' terminal states). */
const OUTCOME_STATES: Record<string, string> = {
  leave_voicemail: "voicemail",
  schedule_callback: "callback",
  put_through: "transfer",
  opt_out: "opt_out",
  opt_out_noted: "opt_out",
  send_video: "follow_up",
  log_lead: "lead",
  send_message: "message",
  route_to_queue: "message",
};

const CREATE_BOOKING = "cal.com:create_booking";

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Evidence pointing at one event. */
export function evidenceOf(e: QaEvent, reason: string): Evidence {
  return { eventId: e.id, seq: e.seq, reason };
}

/** Order events as they happened in the call (seq is per call and increasing). */
export function sortEvents(events: readonly QaEvent[]): QaEvent[] {
  return [...events].sort((a, b) => a.seq - b.seq || a.atMs - b.atMs);
}

function isPitch(config: QaConfig, flowId: string | undefined, state: string, index: number): boolean {
  const listed = flowId === undefined ? undefined : config.pitchStates[flowId];
  if (listed !== undefined) return listed.includes(state);
  return index > 0 && !config.neutralStates.includes(state);
}

/** A successful `cal.com:create_booking` reported by the engine or the flow. */
function bookingActionOk(e: QaEvent): boolean {
  if (e.type === "action.result") return e.payload.action === CREATE_BOOKING && e.payload.ok === true;
  if (e.type === "flow.action_result") return e.payload.name === CREATE_BOOKING && e.payload.ok === true;
  return false;
}

function classifyOutcome(facts: Omit<CallFacts, "outcome" | "p50Ms" | "p95Ms">): CallFacts["outcome"] {
  const evidence: Evidence[] = [];
  const created = facts.events.filter(
    (e) => e.type === "booking.created" && (str(e.payload.status) ?? "accepted") === "accepted",
  );
  const actionOk = facts.events.filter(bookingActionOk);
  if (created.length > 0 || actionOk.length > 0) {
    for (const e of actionOk) evidence.push(evidenceOf(e, "calendar accepted the booking"));
    for (const e of created) evidence.push(evidenceOf(e, "booking.created recorded"));
    return { outcome: "booked", evidence, bookingConfirmed: true };
  }
  const confirmEntered = facts.transitions.find((t) => t.to === "confirm");
  const bookingFailed = facts.events.find(
    (e) =>
      (e.type === "action.result" && e.payload.action === CREATE_BOOKING) ||
      (e.type === "flow.action_result" && e.payload.name === CREATE_BOOKING),
  );
  // An opt-out counts as the outcome only once the suppression was written (an ignored one is no outcome).
  const suppression = facts.suppressions[0];
  if (suppression) {
    evidence.push(evidenceOf(suppression, "caller opted out; suppression written"));
    return { outcome: "opt_out", evidence, bookingConfirmed: null };
  }
  const machine = facts.amdResults.find(
    (e) => e.payload.answeredBy !== "human" && e.payload.answeredBy !== "unknown",
  );
  for (let i = facts.transitions.length - 1; i >= 0; i--) {
    const t = facts.transitions[i];
    const outcome = t === undefined ? undefined : OUTCOME_STATES[t.to];
    if (t !== undefined && outcome !== undefined) {
      evidence.push(evidenceOf(t.event, `ended in ${t.to}`));
      return { outcome, evidence, bookingConfirmed: confirmEntered ? false : null };
    }
  }
  if (machine) {
    evidence.push(evidenceOf(machine, "answering machine"));
    return { outcome: "voicemail", evidence, bookingConfirmed: null };
  }
  if (confirmEntered) {
    evidence.push(evidenceOf(confirmEntered.event, "booking attempted"));
    if (bookingFailed) evidence.push(evidenceOf(bookingFailed, "calendar refused the booking"));
    return { outcome: "booking_failed", evidence, bookingConfirmed: false };
  }
  const endedOutcome = facts.ended ? str(facts.ended.payload.outcome) : undefined;
  if (facts.ended) evidence.push(evidenceOf(facts.ended, `call ended: ${endedOutcome ?? "unknown"}`));
  else
    evidence.push({ reason: "no call.ended event: the call has not ended (or its end is not flushed yet)" });
  if (endedOutcome === "transfer") return { outcome: "transfer", evidence, bookingConfirmed: null };
  return { outcome: "no_outcome", evidence, bookingConfirmed: null };
}

/** Extract the facts of one call from its events (any order; sorted by seq here). */
export function callFacts(input: readonly QaEvent[], config: QaConfig): CallFacts {
  const events = sortEvents(input);
  const started = events.find((e) => e.type === "call.started");
  const ended = [...events].reverse().find((e) => e.type === "call.ended");
  const flowId = str(started?.payload.flowId);
  const dir = started?.payload.direction;
  const direction = dir === "inbound" || dir === "outbound" ? dir : undefined;
  const transitions: Transition[] = [];
  for (const e of events) {
    if (e.type !== "state.transition") continue;
    const to = str(e.payload.to);
    if (to === undefined) continue;
    transitions.push({
      event: e,
      from: str(e.payload.from) ?? null,
      to,
      trigger: str(e.payload.trigger) ?? "",
    });
  }
  const pitches = transitions.filter((t, i) => isPitch(config, flowId, t.to, i));
  const ofTypes = (types: readonly string[]) => events.filter((e) => types.includes(e.type));
  const turnLatencies: CallFacts["turnLatencies"] = [];
  for (const e of events) {
    const totalMs = e.type === "turn.latency" ? num(e.payload.totalMs) : undefined;
    if (totalMs !== undefined) turnLatencies.push({ event: e, totalMs });
  }
  const totals = turnLatencies.map((t) => t.totalMs);
  const callerTurns = judgeTurns(events, config.answered.turnBudgetMs);
  const base: Omit<CallFacts, "outcome" | "p50Ms" | "p95Ms"> = {
    events,
    started,
    ended,
    flowId,
    direction,
    campaignId: str(started?.payload.campaignId),
    transitions,
    pitches,
    disclosures: {
      ai: ofTypes(config.disclosure.aiDisclosureTypes),
      recording: ofTypes(config.disclosure.recordingNoticeTypes),
    },
    consents: events.filter((e) => e.type === "consent.recorded"),
    amdResults: events.filter((e) => e.type === "amd.result"),
    optOutRequests: events.filter(
      (e) =>
        (e.type === "flow.turn" && e.payload.branch === "opt_out") ||
        (e.type === "state.transition" && e.payload.trigger === "opt_out"),
    ),
    suppressions: events.filter((e) => e.type === "opt_out.recorded"),
    reprompts: events.filter(
      (e) =>
        (e.type === "state.transition" &&
          (e.payload.trigger === "no_speech" || e.payload.trigger === "no_match")) ||
        e.type === "flow.reprompts_exhausted",
    ),
    lowConfidence: events.filter(
      (e) =>
        (e.type === "flow.turn" && e.payload.matched === false && e.payload.branch !== "opt_out") ||
        e.type === "llm.failed" ||
        e.type === "dtmf.disagreed" ||
        e.type === "flow.capture_rejected",
    ),
    bargeIns: events.filter((e) => e.type === "call.barge_in"),
    longSilences: turnLatencies.filter((t) => t.totalMs > config.clarity.longSilenceMs).map((t) => t.event),
    turnLatencies,
    callerTurns,
    unansweredTurns: callerTurns.filter((t) => t.answer === "unanswered"),
  };
  return {
    ...base,
    p50Ms: percentile(totals, 50),
    p95Ms: percentile(totals, 95),
    outcome: classifyOutcome(base),
  };
}
