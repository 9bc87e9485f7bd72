/**
 * The QA scorecard of one call, judged from its audit events alone: consent and disclosure, compliance
 * (opt-out, AMD, calling window), clarity, outcome and latency, each with the evidence that decided it.
 * Pure: events and configuration in, scorecard out.
 */
import { callingWindowStatus } from "../flow/time";
import { type CallFacts, callFacts, type Evidence, evidenceOf, type QaEvent } from "./call-facts";
import { CRITERION_IDS, type CriterionId, type QaConfig } from "./config";
import { callClock } from "./turn-answers";

/** One criterion's verdict. */
export interface CriterionResult {
  id: CriterionId;
  passed: boolean;
  weight: number;
  evidence: Evidence[];
}

/** A call's scorecard: 0–100 (weighted share of passed criteria), each criterion, and headline facts. */
export interface Scorecard {
  score: number;
  criteria: CriterionResult[];
  outcome: string;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Position of an event on the call's timeline (time first; seq breaks ties and orders same-ms events). */
const before = (a: QaEvent, b: QaEvent): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);

/** Every caller turn answered: evidence lists each unanswered turn with its time, the first ones in full. */
function answeredEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  const startMs = f.started?.atMs ?? f.events[0]?.atMs ?? 0;
  const count = (a: string) => f.callerTurns.filter((t) => t.answer === a).length;
  const unanswered = f.unansweredTurns;
  out.push({
    reason: `${unanswered.length} of ${f.callerTurns.length} caller turns unanswered (budget ${config.answered.turnBudgetMs} ms)`,
  });
  for (const t of unanswered.slice(0, 10)) {
    const where = t.state === undefined ? "" : ` in ${t.state}`;
    const dropped = t.event.type === "turn.dropped" ? ", not acted on by the engine" : "";
    out.push({
      ...evidenceOf(
        t.event,
        `caller turn at ${callClock(t.event.atMs - startMs)}${where}${dropped}: ${t.detail}`,
      ),
      atMs: t.event.atMs,
    });
  }
  const hungUp = count("caller_hung_up");
  if (hungUp > 0) out.push({ reason: `${hungUp} turns followed by the caller hanging up within the budget` });
  const afterEnd = count("after_end");
  if (afterEnd > 0) out.push({ reason: `${afterEnd} turns after the call ended, not counted` });
  const pending = count("pending");
  if (pending > 0) out.push({ reason: `${pending} turns still within the budget (call in progress)` });
  return unanswered.length === 0;
}

function consentEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  let failed = false;
  const firstPitch = f.pitches[0]?.event;
  const check = (kind: string, list: QaEvent[]) => {
    const given = list[0];
    if (given === undefined) {
      if (firstPitch) {
        failed = true;
        out.push(evidenceOf(firstPitch, `pitch without any ${kind}`));
      } else out.push({ reason: `no ${kind} recorded, and no pitch was made` });
      return;
    }
    if (firstPitch && !before(given, firstPitch)) {
      failed = true;
      out.push(evidenceOf(firstPitch, `pitch before the ${kind}`));
      return;
    }
    out.push(evidenceOf(given, `${kind} given${firstPitch ? " before the first pitch" : ""}`));
  };
  check("AI disclosure", f.disclosures.ai);
  check("recording notice", f.disclosures.recording);
  const refused = f.consents.find((e) => e.payload.granted === false);
  if (refused) {
    const after = f.pitches.find((p) => before(refused, p.event));
    if (after) {
      failed = true;
      out.push(evidenceOf(after.event, "pitch after the caller refused consent"));
    } else out.push(evidenceOf(refused, "consent refused; no pitch followed"));
  }
  if (f.flowId !== undefined && config.consentRequiredFlows.includes(f.flowId)) {
    const granted = f.consents.find((e) => e.payload.granted !== false);
    if (granted === undefined && firstPitch) {
      failed = true;
      out.push(evidenceOf(firstPitch, "this flow requires consent; pitch without it"));
    } else if (granted && firstPitch && !before(granted, firstPitch)) {
      failed = true;
      out.push(evidenceOf(firstPitch, "this flow requires consent; pitch before it"));
    } else if (granted) out.push(evidenceOf(granted, "consent captured as the flow requires"));
    else out.push({ reason: "this flow requires consent; none captured and no pitch made" });
  }
  return !failed;
}

function optOutEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  const request = f.optOutRequests[0];
  if (request === undefined) {
    out.push({ reason: "no opt-out requested" });
    return true;
  }
  let ok = true;
  const suppression = f.suppressions.find((s) => !before(s, request));
  if (suppression === undefined) {
    ok = false;
    out.push(evidenceOf(request, "opt-out requested but no suppression was written"));
  } else if (suppression.atMs - request.atMs > config.compliance.optOutMaxDelayMs) {
    ok = false;
    out.push(
      evidenceOf(suppression, `suppression written ${suppression.atMs - request.atMs} ms after the request`),
    );
  } else out.push(evidenceOf(suppression, "suppression written at once"));
  const pitchAfter = f.pitches.find((p) => before(request, p.event));
  if (pitchAfter) {
    ok = false;
    out.push(evidenceOf(pitchAfter.event, `pitch (${pitchAfter.to}) after the opt-out request`));
  }
  const next = f.transitions.find((t) => before(request, t.event) || t.event === request);
  if (next && next.trigger !== "opt_out" && next.to !== "opt_out") {
    ok = false;
    out.push(evidenceOf(next.event, `next state after the opt-out was ${next.to}, not the opt-out line`));
  }
  return ok;
}

function amdEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  if (f.direction !== "outbound") {
    out.push({ reason: "inbound call: no AMD" });
    return true;
  }
  const result = f.amdResults[0];
  if (result === undefined) {
    if (config.compliance.amdExpectedOnOutbound && f.pitches[0]) {
      out.push(evidenceOf(f.pitches[0].event, "pitch while the AMD result was still pending"));
      return false;
    }
    out.push({ reason: "no AMD result on this call" });
    return true;
  }
  let ok = true;
  const early = f.pitches.find((p) => before(p.event, result));
  if (early) {
    ok = false;
    out.push(evidenceOf(early.event, `pitch (${early.to}) before the AMD result`));
  }
  const answeredBy = String(result.payload.answeredBy ?? "unknown");
  if (answeredBy !== "human" && answeredBy !== "unknown") {
    const toMachine = f.pitches.find((p) => before(result, p.event));
    if (toMachine) {
      ok = false;
      out.push(evidenceOf(toMachine.event, `pitch (${toMachine.to}) to an answering machine`));
    }
  }
  if (ok) out.push(evidenceOf(result, `AMD said ${answeredBy}; no pitch before it`));
  return ok;
}

function windowEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  if (f.direction !== "outbound") {
    out.push({ reason: "inbound call: no calling window" });
    return true;
  }
  if (f.started === undefined) {
    out.push({ reason: "no call.started event: calling window cannot be checked" });
    return false;
  }
  const { timeZone, callingWindow } = config.compliance;
  const status = callingWindowStatus(f.started.atMs, timeZone, callingWindow);
  out.push(
    evidenceOf(
      f.started,
      status.open
        ? `placed inside the calling window (${callingWindow.start}–${callingWindow.end} ${timeZone})`
        : `placed outside the calling window: ${status.reason}`,
    ),
  );
  return status.open;
}

function clarityEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  const c = config.clarity;
  const checks: [string, QaEvent[], number][] = [
    ["reprompts", f.reprompts, c.maxReprompts],
    ["low-confidence turns", f.lowConfidence, c.maxLowConfidenceTurns],
    ["barge-ins", f.bargeIns, c.maxBargeIns],
    ["long silences", f.longSilences, c.maxLongSilences],
  ];
  let ok = true;
  for (const [what, list, max] of checks) {
    if (list.length > max) ok = false;
    out.push({ reason: `${list.length} ${what} (allowed ${max})` });
    for (const e of list.slice(0, 5)) out.push(evidenceOf(e, what.replace(/s$/, "")));
  }
  return ok;
}

function outcomeEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  const o = f.outcome;
  out.push(...o.evidence);
  const passing = config.passingOutcomes.includes(o.outcome);
  out.push({ reason: `outcome ${o.outcome}${passing ? "" : " is not a passing outcome"}` });
  // No outcome although the caller spoke: the call was lost, not merely unfinished; never a pass.
  const spoke = f.callerTurns.length > 0;
  if (o.outcome === "no_outcome" && spoke)
    out.push({ reason: `no outcome after ${f.callerTurns.length} caller turns` });
  if (o.outcome === "no_outcome" && spoke && passing) return false;
  if (o.bookingConfirmed === false)
    out.push({ reason: "a booking was attempted but not confirmed by the calendar" });
  return passing && o.bookingConfirmed !== false;
}

function latencyEvidence(f: CallFacts, config: QaConfig, out: Evidence[]): boolean {
  const { p50BudgetMs, p95BudgetMs } = config.latency;
  if (f.turnLatencies.length === 0) {
    out.push({ reason: "no timed turns" });
    return true;
  }
  const p50 = f.p50Ms ?? 0;
  const p95 = f.p95Ms ?? 0;
  out.push({
    reason: `voice-to-voice p50 ${p50} ms (budget ${p50BudgetMs}), p95 ${p95} ms (budget ${p95BudgetMs}) over ${f.turnLatencies.length} turns`,
  });
  const slow = f.turnLatencies.filter((t) => t.totalMs > p95BudgetMs).slice(0, 5);
  for (const t of slow)
    out.push(evidenceOf(t.event, `turn ${String(t.event.payload.turn ?? "?")} took ${t.totalMs} ms`));
  return p50 <= p50BudgetMs && p95 <= p95BudgetMs;
}

/** Judge one criterion from the call's facts. */
export function judgeCriterion(id: CriterionId, f: CallFacts, config: QaConfig): CriterionResult {
  const evidence: Evidence[] = [];
  let passed: boolean;
  switch (id) {
    case "answered":
      passed = answeredEvidence(f, config, evidence);
      break;
    case "consent":
      passed = consentEvidence(f, config, evidence);
      break;
    case "compliance": {
      const optOut = optOutEvidence(f, config, evidence);
      const amd = amdEvidence(f, config, evidence);
      const window = windowEvidence(f, config, evidence);
      passed = optOut && amd && window;
      break;
    }
    case "clarity":
      passed = clarityEvidence(f, config, evidence);
      break;
    case "outcome":
      passed = outcomeEvidence(f, config, evidence);
      break;
    case "latency":
      passed = latencyEvidence(f, config, evidence);
      break;
  }
  return { id, passed, weight: config.weights[id], evidence };
}

/** Score a call from its audit events. Score = weighted share of passed criteria, 0–100, rounded. */
export function scoreCall(events: readonly QaEvent[], config: QaConfig): Scorecard {
  const facts = callFacts(events, config);
  const criteria = CRITERION_IDS.map((id) => judgeCriterion(id, facts, config));
  const total = criteria.reduce((s, c) => s + c.weight, 0);
  const got = criteria.reduce((s, c) => s + (c.passed ? c.weight : 0), 0);
  return {
    score: total === 0 ? 0 : Math.round((100 * got) / total),
    criteria,
    outcome: facts.outcome.outcome,
    p50Ms: facts.p50Ms,
    p95Ms: facts.p95Ms,
  };
}
