/** The interpreter's working context for one step: entering states, speaking lines, running actions, ending. */
import { actionsOf, intentBranches, isTerminal, listens } from "./graph";
import { DEFAULT_NO_SPEECH_TIMEOUT_MS, type Flow, type FlowState } from "./schema";
import { type RenderedTemplate, renderTemplate, templateVariables } from "./template";
import { DEFAULT_TIME_ZONE, formatSlotForSpeech, isWithinWorkingHours } from "./time";
import type { Effect, FlowLogEvent, FlowSnapshot, ListeningSpec } from "./types";

/** Most state entries kept in `snapshot.path` (keeps the stored snapshot small). */
export const MAX_PATH = 200;
/** Automatic hops (next/resume/check/exhausted) allowed inside one step before the guard hangs up. */
const MAX_HOPS_PER_STEP = 64;

/** The zone slots are spoken in: the callee's `time_zone` variable if valid, else the flow's zone. */
export function speechTimeZone(flow: Flow, vars: Record<string, string>): string {
  const tz = vars.time_zone;
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat("en-GB", { timeZone: tz });
      return tz;
    } catch {
      // fall through to the flow's zone
    }
  }
  return flow.timeZone ?? DEFAULT_TIME_ZONE;
}

/** Variables as spoken: instants phrased in the callee's zone; unparseable instants count as missing. */
function spokenVars(flow: Flow, vars: Record<string, string>, nowMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  const tz = speechTimeZone(flow, vars);
  for (const [k, v] of Object.entries(vars)) {
    if (flow.variables[k]?.type !== "instant") {
      out[k] = v;
      continue;
    }
    try {
      out[k] = formatSlotForSpeech(v, tz, nowMs);
    } catch {
      // leave it out: the declared fallback (or nothing) is spoken instead of a garbled time
    }
  }
  return out;
}

function fallbacks(flow: Flow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(flow.variables)) if (v.fallback !== undefined) out[k] = v.fallback;
  return out;
}

/** Render a line of the flow as the caller hears it: call values (instants phrased), else declared fallbacks. */
export function renderSpokenLine(
  flow: Flow,
  vars: Record<string, string>,
  text: string,
  nowMs: number,
): RenderedTemplate {
  return renderTemplate(text, spokenVars(flow, vars, nowMs), fallbacks(flow));
}

/** What the state in `snapshot` listens for, or null when the call is not waiting for the caller. */
export function listeningSpec(flow: Flow, snapshot: FlowSnapshot): ListeningSpec | null {
  if (snapshot.status !== "active" || snapshot.phase !== "listening") return null;
  const state = flow.states[snapshot.state];
  if (state === undefined || !listens(state)) return null;
  return {
    stateId: snapshot.state,
    branches: intentBranches(state),
    globalBranches: ["opt_out"],
    captures: [...(state.capture ?? [])],
    dtmfKeys: Object.keys(state.dtmf ?? {}),
    reasoning: state.reasoning === true,
    reply: state.reply === true,
    noSpeechTimeoutMs:
      state.noSpeechTimeoutMs ?? flow.defaults?.noSpeechTimeoutMs ?? DEFAULT_NO_SPEECH_TIMEOUT_MS,
    vad: { ...(state.vad ?? {}) },
    endpointing: { ...(state.endpointing ?? {}) },
  };
}

/** Mutable working copy of a snapshot plus the effects produced so far. */
export class StepContext {
  readonly effects: Effect[] = [];
  private hops = 0;

  constructor(
    readonly flow: Flow,
    readonly snap: FlowSnapshot,
    readonly nowMs: number,
  ) {}

  log(event: FlowLogEvent): void {
    this.effects.push({ type: "log", event });
  }

  /** Render and emit one spoken line. */
  say(stateId: string, lineKey: string, text: string): void {
    const r = renderSpokenLine(this.flow, this.snap.vars, text, this.nowMs);
    if (r.missing.length > 0)
      this.log({ type: "template_missing", state: stateId, line: lineKey, variables: r.missing });
    if (r.text === "") return;
    this.effects.push({
      type: "say",
      text: r.text,
      cacheable: r.cacheable,
      stateId,
      lineId: `${stateId}.${lineKey}`,
    });
  }

  /** Render action params from raw values; a param with any unknown variable is omitted. */
  renderParams(params: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(params ?? {})) {
      const r = renderTemplate(v, this.snap.vars, {});
      if (r.missing.length === 0 && templateVariables(v).every((n) => this.snap.vars[n] !== undefined))
        out[k] = r.text;
    }
    return out;
  }

  /** End the call: terminal effect, status and audit record. */
  end(reason: string, effect: Effect | null): void {
    if (effect !== null) this.effects.push(effect);
    this.snap.status = "ended";
    this.snap.phase = "ended";
    this.snap.pending = null;
    this.snap.endReason = reason;
    this.log({ type: "call_ended", reason, state: this.snap.state });
  }

  /** Count an event that changed nothing; past the flow's cap, close politely so no call can stall forever. */
  ignore(eventType: string, maxIgnored: number): void {
    this.snap.ignoredEvents += 1;
    this.log({
      type: "event_ignored",
      event: eventType,
      state: this.snap.state,
      count: this.snap.ignoredEvents,
    });
    if (this.snap.ignoredEvents > maxIgnored) this.forceClose("ignored_events_limit");
  }

  /** Move to the flow's polite close, or end at once when already in a terminal state. */
  forceClose(trigger: string): void {
    const current = this.flow.states[this.snap.state];
    if (current !== undefined && isTerminal(current)) {
      this.end(trigger, { type: "hangup", reason: trigger });
      return;
    }
    this.enter(this.flow.global.max_duration, trigger, false);
  }

  /**
   * Enter `target` and run it until it waits (listening or actions) or ends. Handles reprompt limits, resume
   * states, working-hours checks and `next` chains. Never enters a state the flow does not define.
   */
  enter(target: string, trigger: string, resumed: boolean): void {
    let name = target;
    let why = trigger;
    let isResume = resumed;
    for (;;) {
      this.hops += 1;
      const state = this.flow.states[name];
      if (state === undefined || this.hops > MAX_HOPS_PER_STEP) {
        this.log({ type: "flow_error", state: this.snap.state, target: name, trigger: why });
        this.end("flow_error", { type: "hangup", reason: "flow_error" });
        return;
      }
      const visits = this.snap.visits[name] ?? 0;
      if (state.reprompt !== undefined && visits > state.reprompt.max) {
        this.log({ type: "reprompts_exhausted", state: name, exhausted: state.reprompt.exhausted });
        name = state.reprompt.exhausted;
        why = "reprompts_exhausted";
        isResume = false;
        continue;
      }
      const from = this.snap.state;
      this.snap.visits[name] = visits + 1;
      this.snap.transitions += 1;
      this.snap.path.push(name);
      if (this.snap.path.length > MAX_PATH) this.snap.path.splice(0, this.snap.path.length - MAX_PATH);
      this.log({
        type: "state_transition",
        from: this.snap.transitions === 1 ? null : from,
        to: name,
        trigger: why,
      });
      if (state.resume === true && this.flow.states[from]?.resume !== true) this.snap.returnTo = from;
      this.snap.state = name;
      this.snap.pending = null;
      if (state.audit !== undefined) this.log({ type: state.audit, state: name });
      if (name === this.flow.global.opt_out && !this.snap.optedOut) {
        this.snap.optedOut = true;
        this.log({ type: "opt_out", state: name, trigger: why });
      }
      if (state.check === "working_hours") {
        const hours = this.flow.workingHours;
        const open = hours !== undefined && isWithinWorkingHours(this.nowMs, this.flow.timeZone, hours);
        name = state.on?.[open ? "open" : "closed"] ?? "";
        why = open ? "open" : "closed";
        isResume = false;
        continue;
      }
      if (state.resume === true) {
        this.speakLines(name, state, false);
        name = this.snap.returnTo ?? "";
        why = "resume";
        isResume = true;
        continue;
      }
      const actions = actionsOf(state);
      if (actions.length > 0 && !(isResume && listens(state))) {
        this.startActions(name, state);
        return;
      }
      const next = this.settle(name, state, isResume, null);
      if (next === null) return;
      name = next.target;
      why = next.trigger;
      isResume = false;
    }
  }

  private speakLines(name: string, state: FlowState, resumed: boolean): void {
    if (resumed && state.reprompt?.say !== undefined) {
      this.say(name, "reprompt", state.reprompt.say);
      return;
    }
    if (state.say !== undefined) this.say(name, "say", state.say);
    if (state.ask !== undefined) this.say(name, "ask", state.ask);
  }

  private startActions(name: string, state: FlowState): void {
    if (state.hold !== undefined) this.say(name, "hold", state.hold);
    const visit = this.snap.visits[name] ?? 1;
    const specs = actionsOf(state);
    const actions = specs.map((a, i) => ({
      id: `${name}.${visit}.${i}`,
      name: a.name,
      optional: a.optional === true,
      outcomes: [...(a.outcomes ?? [])],
      params: this.renderParams(a.params),
    }));
    const parallel = state.parallel ?? true;
    this.snap.pending = { stateId: name, parallel, actions, results: {} };
    this.snap.phase = "actions";
    this.effects.push({
      type: "run_actions",
      actions: actions.map((a) => ({ id: a.id, name: a.name, params: a.params })),
      parallel,
    });
  }

  /**
   * The state's work is done (no actions, or they succeeded): speak, then end, follow `successTarget`/`next`,
   * or listen. Returns the next automatic hop, or null when the step is over.
   */
  settle(
    name: string,
    state: FlowState,
    resumed: boolean,
    successTarget: string | null,
  ): { target: string; trigger: string } | null {
    this.speakLines(name, state, resumed);
    if (successTarget !== null) return { target: successTarget, trigger: "success" };
    if (state.end === "hangup") {
      this.end(name, { type: "hangup", reason: name });
      return null;
    }
    if (state.end === "transfer") {
      const raw = state.transferTarget;
      const rendered = raw === undefined ? undefined : this.renderParams({ target: raw }).target;
      this.end(name, rendered === undefined ? { type: "transfer" } : { type: "transfer", target: rendered });
      return null;
    }
    if (state.next !== undefined) return { target: state.next, trigger: "next" };
    if (listens(state)) {
      this.snap.phase = "listening";
      const spec = listeningSpec(this.flow, this.snap);
      if (spec !== null) this.effects.push({ type: "listen", ...spec });
      return null;
    }
    this.log({ type: "flow_error", state: name, reason: "dead_end" });
    return { target: this.flow.global.max_duration, trigger: "dead_end" };
  }
}
