/** Pure call-flow interpreter: (flow, snapshot, event, nowMs) -> (snapshot, effects). No I/O, no clock reads. */
import { actionsOf, intentBranches, isTerminal, listens } from "./graph";
import { DEFAULT_MAX_IGNORED_EVENTS, type Flow, FlowError, type FlowState } from "./schema";
import { listeningSpec, StepContext } from "./transitions";
import type { Effect, FlowEvent, FlowSnapshot, StepResult } from "./types";

export { listeningSpec } from "./transitions";

/**
 * The snapshot of a call that has not started. `vars` are the call's known values (first_name, email, ...).
 * Throws FlowError when a variable the flow declares `required` is absent.
 */
export function initialSnapshot(flow: Flow, vars: Record<string, string>, nowMs: number): FlowSnapshot {
  const missing = Object.entries(flow.variables)
    .filter(([k, v]) => v.required === true && (vars[k] === undefined || vars[k].trim() === ""))
    .map(([k]) => k);
  if (missing.length > 0) {
    throw new FlowError(`flow ${flow.id}: required call variables missing: ${missing.join(", ")}`, [
      ...missing.map((k) => ({ path: ["variables", k], message: "required variable not supplied" })),
    ]);
  }
  return {
    version: 1,
    flowId: flow.id,
    status: "ready",
    state: flow.initial,
    phase: "idle",
    vars: { ...vars },
    visits: {},
    returnTo: null,
    pending: null,
    ignoredEvents: 0,
    transitions: 0,
    path: [],
    endReason: null,
    optedOut: false,
    startedAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}

function maxIgnored(flow: Flow): number {
  return flow.limits?.maxIgnoredEvents ?? DEFAULT_MAX_IGNORED_EVENTS;
}

/** Store captures the state declares (typed instants must parse; a slot name resolves to that slot's value). */
function recordCaptures(
  ctx: StepContext,
  state: FlowState,
  captures: Record<string, string>,
  allowAll: boolean,
): void {
  const declared = new Set(state.capture ?? []);
  for (const [key, raw] of Object.entries(captures)) {
    if (!allowAll && !declared.has(key)) continue;
    let value = raw.trim();
    if (ctx.flow.variables[key]?.type === "instant") {
      const named = ctx.flow.variables[value]?.type === "instant" ? ctx.snap.vars[value] : undefined;
      if (named !== undefined) value = named;
      if (Number.isNaN(Date.parse(value))) {
        ctx.log({ type: "capture_rejected", state: ctx.snap.state, key });
        continue;
      }
    }
    if (value === "") continue;
    ctx.snap.vars[key] = value;
    ctx.effects.push({ type: "capture", key, value });
    ctx.log({ type: "capture", state: ctx.snap.state, key, value });
  }
}

/** A classified caller turn (or a mapped DTMF key) in the listening state. */
function takeBranch(
  ctx: StepContext,
  state: FlowState,
  branch: string,
  captures: Record<string, string>,
  fromDtmf: boolean,
  text: string | undefined,
): void {
  const matched = intentBranches(state).includes(branch);
  ctx.log({
    type: "turn",
    state: ctx.snap.state,
    branch,
    matched,
    source: fromDtmf ? "dtmf" : "speech",
    text,
  });
  recordCaptures(ctx, state, captures, fromDtmf);
  const on = state.on ?? {};
  if (matched) {
    ctx.enter(on[branch] ?? "", branch, false);
  } else if (branch === "opt_out") {
    ctx.enter(ctx.flow.global.opt_out, "opt_out", false);
  } else {
    ctx.enter(on.no_match ?? on.no_speech ?? ctx.flow.global.max_duration, "no_match", false);
  }
}

/** Combine action results: the first failing or non-success outcome of a required action, in declared order. */
function combinedOutcome(ctx: StepContext): string {
  const pending = ctx.snap.pending;
  if (pending === null) return "failure";
  for (const a of pending.actions) {
    if (a.optional) continue;
    const r = pending.results[a.id];
    if (r === undefined || !r.ok)
      return r?.outcome !== null && r?.outcome !== undefined && a.outcomes.includes(r.outcome)
        ? r.outcome
        : "failure";
    if (r.outcome !== null && r.outcome !== "success" && a.outcomes.includes(r.outcome)) return r.outcome;
  }
  return "success";
}

function onActionResult(ctx: StepContext, event: Extract<FlowEvent, { type: "action_result" }>): void {
  const pending = ctx.snap.pending;
  const action = pending?.actions.find((a) => a.id === event.actionId);
  if (pending === null || action === undefined || pending.results[event.actionId] !== undefined) {
    ctx.ignore("action_result", maxIgnored(ctx.flow));
    return;
  }
  pending.results[event.actionId] = { ok: event.ok, outcome: event.outcome ?? null };
  ctx.log({
    type: "action_result",
    state: ctx.snap.state,
    actionId: event.actionId,
    name: action.name,
    ok: event.ok,
    outcome: event.outcome ?? null,
  });
  if (event.ok && event.data !== undefined) {
    for (const [k, v] of Object.entries(event.data))
      if (/^[a-z][a-z0-9_]*$/.test(k)) ctx.snap.vars[k] = String(v);
  }
  if (pending.actions.some((a) => pending.results[a.id] === undefined)) return;
  const outcome = combinedOutcome(ctx);
  const name = ctx.snap.state;
  const state = ctx.flow.states[name];
  if (state === undefined) return;
  ctx.snap.pending = null;
  if (outcome === "success") {
    const hop = ctx.settle(name, state, false, state.on?.success ?? null);
    if (hop !== null) ctx.enter(hop.target, hop.trigger, false);
    return;
  }
  const on = state.on ?? {};
  ctx.enter(on[outcome] ?? on.failure ?? ctx.flow.global.max_duration, outcome, false);
}

function handleEvent(ctx: StepContext, event: FlowEvent): void {
  const { flow, snap } = ctx;
  if (event.type === "caller_hangup") {
    ctx.end("caller_hangup", null);
    return;
  }
  if (snap.status === "ready") {
    if (event.type === "start") {
      snap.status = "active";
      ctx.enter(flow.initial, "start", false);
    } else ctx.ignore(event.type, maxIgnored(flow));
    return;
  }
  const state = flow.states[snap.state];
  if (state === undefined) {
    ctx.end("flow_error", { type: "hangup", reason: "flow_error" });
    return;
  }
  const listening = snap.phase === "listening" && listens(state);
  switch (event.type) {
    case "intent":
      if (listening) takeBranch(ctx, state, event.branch, event.captures ?? {}, false, event.text);
      else ctx.ignore(event.type, maxIgnored(flow));
      return;
    case "dtmf": {
      if (!listening) {
        ctx.ignore(event.type, maxIgnored(flow));
        return;
      }
      const mapping = state.dtmf?.[event.digit];
      ctx.log({ type: "dtmf", state: snap.state, digit: event.digit, mapped: mapping !== undefined });
      const branch = mapping === undefined ? "" : typeof mapping === "string" ? mapping : mapping.branch;
      const captures = mapping === undefined || typeof mapping === "string" ? {} : (mapping.captures ?? {});
      takeBranch(ctx, state, branch, captures, true, undefined);
      return;
    }
    case "no_speech":
      if (listening) ctx.enter(state.on?.no_speech ?? flow.global.max_duration, "no_speech", false);
      else ctx.ignore(event.type, maxIgnored(flow));
      return;
    case "amd":
      ctx.log({ type: "amd", state: snap.state, result: event.result });
      if (event.result === "machine" && state.on?.voicemail !== undefined)
        ctx.enter(state.on.voicemail, "voicemail", false);
      else ctx.ignore(event.type, maxIgnored(flow));
      return;
    case "action_result":
      onActionResult(ctx, event);
      return;
    case "opt_out":
      if (snap.state === flow.global.opt_out || isTerminal(state)) ctx.ignore(event.type, maxIgnored(flow));
      else ctx.enter(flow.global.opt_out, "opt_out", false);
      return;
    case "max_duration":
      ctx.log({ type: "max_duration", state: snap.state });
      if (snap.state === flow.global.max_duration) ctx.ignore(event.type, maxIgnored(flow));
      else ctx.forceClose("max_duration");
      return;
    case "start":
      ctx.ignore(event.type, maxIgnored(flow));
      return;
  }
}

/**
 * Apply one event. Pure: the input snapshot is not modified; the returned snapshot is plain JSON.
 * Events after the call has ended produce no effects.
 */
export function step(flow: Flow, snapshot: FlowSnapshot, event: FlowEvent, nowMs: number): StepResult {
  if (snapshot.status === "ended") return { snapshot, effects: [] };
  const ctx = new StepContext(flow, structuredClone(snapshot), nowMs);
  handleEvent(ctx, event);
  ctx.snap.updatedAtMs = nowMs;
  return { snapshot: ctx.snap, effects: ctx.effects };
}

/**
 * Effects that restore a call after its Durable Object restarted, without replaying anything already said:
 * listen again in a listening state, or re-run the actions still awaiting results (actions are idempotent).
 */
export function resumeEffects(flow: Flow, snapshot: FlowSnapshot): Effect[] {
  if (snapshot.status !== "active") return [];
  const spec = listeningSpec(flow, snapshot);
  if (spec !== null) return [{ type: "listen", ...spec }];
  const pending = snapshot.pending;
  if (snapshot.phase === "actions" && pending !== null) {
    const open = pending.actions.filter((a) => pending.results[a.id] === undefined);
    return [
      {
        type: "run_actions",
        actions: open.map((a) => ({ id: a.id, name: a.name, params: a.params })),
        parallel: pending.parallel,
      },
    ];
  }
  return [];
}

/**
 * A warm transfer nobody answered brings the caller back (Twilio redirects to the voice webhook):
 * reopen the ended call at the failure branch of the state that ran `transfer_to_human`, so the flow
 * offers a callback instead of dead air. Returns null when the call did not end in a transfer.
 */
export function reopenAfterUnansweredTransfer(
  flow: Flow,
  snapshot: FlowSnapshot,
  nowMs: number,
): StepResult | null {
  if (snapshot.status !== "ended" || snapshot.endReason === null) return null;
  const endedState = flow.states[snapshot.state];
  if (endedState?.end !== "transfer") return null;
  const handoff = Object.values(flow.states).find(
    (s) => actionsOf(s).some((a) => a.name === "transfer_to_human") && s.on?.failure !== undefined,
  );
  const target = handoff?.on?.failure;
  if (target === undefined) return null;
  const ctx = new StepContext(
    flow,
    { ...structuredClone(snapshot), status: "active", phase: "idle", endReason: null, pending: null },
    nowMs,
  );
  ctx.log({ type: "transfer_unanswered", state: snapshot.state });
  ctx.enter(target, "transfer_unanswered", false);
  ctx.snap.updatedAtMs = nowMs;
  return { snapshot: ctx.snap, effects: ctx.effects };
}

/**
 * A voicemail beep heard after the flow already left its first state (a mailbox greeting was taken for
 * an answer): go to the first state's `voicemail` branch, so the short message is left, not a pitch.
 * Returns null when the flow has no voicemail branch, the call ended, or it is already there.
 */
export function divertToVoicemail(flow: Flow, snapshot: FlowSnapshot, nowMs: number): StepResult | null {
  const target = flow.states[flow.initial]?.on?.voicemail;
  if (snapshot.status === "ended" || target === undefined || snapshot.state === target) return null;
  const ctx = new StepContext(flow, { ...structuredClone(snapshot), pending: null }, nowMs);
  ctx.log({ type: "amd", state: snapshot.state, result: "machine" });
  ctx.enter(target, "voicemail_beep", false);
  ctx.snap.updatedAtMs = nowMs;
  return { snapshot: ctx.snap, effects: ctx.effects };
}
