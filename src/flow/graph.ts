/** Structural view of a flow: which keys are caller intents, which are outcomes, and every edge between states. */
import type { ActionSpec, Flow, FlowState } from "./schema";

/** Branch keys that are system events, never caller intents. */
export const SYSTEM_BRANCHES = new Set([
  "no_speech",
  "no_match",
  "voicemail",
  "success",
  "failure",
  "open",
  "closed",
]);

/** A state's actions, with the string shorthand expanded. */
export function actionsOf(state: FlowState): ActionSpec[] {
  const a = state.action;
  if (a === undefined) return [];
  const list = Array.isArray(a) ? a : [a];
  return list.map((x) => (typeof x === "string" ? { name: x } : x));
}

/** Outcome keys an action state can branch on: success, failure and every declared outcome. */
export function outcomeKeys(state: FlowState): Set<string> {
  const actions = actionsOf(state);
  if (actions.length === 0) return new Set();
  const keys = new Set(["success", "failure"]);
  for (const a of actions) for (const o of a.outcomes ?? []) keys.add(o);
  return keys;
}

/** The `on` keys that are classified caller intents (not system events, not action outcomes). */
export function intentBranches(state: FlowState): string[] {
  const outcomes = outcomeKeys(state);
  return Object.keys(state.on ?? {}).filter((k) => !SYSTEM_BRANCHES.has(k) && !outcomes.has(k));
}

/** Terminal states end the call (hang up or transfer) once their say and actions are done. */
export function isTerminal(state: FlowState): boolean {
  return state.end !== undefined;
}

/** A state listens for the caller when it is not terminal, not transient, and has intent branches. */
export function listens(state: FlowState): boolean {
  return (
    !isTerminal(state) &&
    state.resume !== true &&
    state.check === undefined &&
    intentBranches(state).length > 0
  );
}

export type EdgeKind = "intent" | "system" | "outcome" | "hours" | "next" | "resume" | "exhausted" | "global";

/** One possible transition. `from` is "*" for global branches; `path` locates the declaration in the file. */
export interface FlowEdge {
  from: string;
  to: string;
  label: string;
  kind: EdgeKind;
  path: string[];
}

function onEdgeKind(state: FlowState, key: string): EdgeKind {
  if (key === "open" || key === "closed") return state.check !== undefined ? "hours" : "system";
  if (outcomeKeys(state).has(key)) return "outcome";
  if (SYSTEM_BRANCHES.has(key)) return "system";
  return "intent";
}

/** Every declared edge, plus the implicit edges of `resume` states back to each state that can route into them. */
export function flowEdges(flow: Flow): FlowEdge[] {
  const edges: FlowEdge[] = [];
  for (const [name, state] of Object.entries(flow.states)) {
    for (const [key, to] of Object.entries(state.on ?? {})) {
      edges.push({
        from: name,
        to,
        label: key,
        kind: onEdgeKind(state, key),
        path: ["states", name, "on", key],
      });
    }
    if (state.next !== undefined) {
      edges.push({ from: name, to: state.next, label: "next", kind: "next", path: ["states", name, "next"] });
    }
    if (state.reprompt !== undefined) {
      const to = state.reprompt.exhausted;
      edges.push({
        from: name,
        to,
        label: "reprompts exhausted",
        kind: "exhausted",
        path: ["states", name, "reprompt", "exhausted"],
      });
    }
  }
  for (const [key, to] of Object.entries(flow.global)) {
    edges.push({ from: "*", to, label: key, kind: "global", path: ["global", key] });
  }
  const resumeEdges: FlowEdge[] = [];
  for (const [name, state] of Object.entries(flow.states)) {
    if (state.resume !== true) continue;
    const preds = new Set(
      edges.filter((e) => e.to === name && e.from !== "*" && e.from !== name).map((e) => e.from),
    );
    for (const p of preds) {
      if (flow.states[p]?.resume === true) continue;
      resumeEdges.push({
        from: name,
        to: p,
        label: "resume",
        kind: "resume",
        path: ["states", name, "resume"],
      });
    }
  }
  return [...edges, ...resumeEdges];
}

/** Every `{{variable}}` template string a state can speak or send, with its path. */
export function stateTemplates(
  name: string,
  state: FlowState,
): { text: string; path: string[]; spoken: boolean }[] {
  const out: { text: string; path: string[]; spoken: boolean }[] = [];
  for (const key of ["say", "ask", "hold"] as const) {
    const t = state[key];
    if (t !== undefined) out.push({ text: t, path: ["states", name, key], spoken: true });
  }
  if (state.reprompt?.say !== undefined) {
    out.push({ text: state.reprompt.say, path: ["states", name, "reprompt", "say"], spoken: true });
  }
  if (state.transferTarget !== undefined) {
    out.push({ text: state.transferTarget, path: ["states", name, "transferTarget"], spoken: false });
  }
  const raw = state.action;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  list.forEach((a, i) => {
    if (typeof a === "string") return;
    for (const [k, v] of Object.entries(a.params ?? {})) {
      const path = Array.isArray(raw)
        ? ["states", name, "action", String(i), "params", k]
        : ["states", name, "action", "params", k];
      out.push({ text: v, path, spoken: false });
    }
  });
  return out;
}
