/** Static checks on a parsed flow: every rule reports the state and the path to the offending declaration. */
import {
  actionsOf,
  type FlowEdge,
  flowEdges,
  intentBranches,
  isTerminal,
  listens,
  stateTemplates,
} from "./graph";
import { type Flow, formatPath, KNOWN_ACTIONS } from "./schema";
import { templateVariables } from "./template";

/** One problem found in a flow. `state` is "" for flow-level problems. */
export interface FlowIssue {
  rule: string;
  state: string;
  path: string[];
  message: string;
}

function issue(rule: string, state: string, path: string[], what: string): FlowIssue {
  const where = state === "" ? formatPath(path) : `state "${state}" (${formatPath(path)})`;
  return { rule, state, path, message: `${where}: ${what}` };
}

function checkTargets(flow: Flow, edges: FlowEdge[]): FlowIssue[] {
  const out: FlowIssue[] = [];
  if (flow.states[flow.initial] === undefined) {
    out.push(issue("unknown-state", "", ["initial"], `initial state "${flow.initial}" is not defined`));
  }
  for (const e of edges) {
    if (e.kind === "resume" || flow.states[e.to] !== undefined) continue;
    const state = e.from === "*" ? "" : e.from;
    out.push(issue("unknown-state", state, e.path, `branch "${e.label}" goes to unknown state "${e.to}"`));
  }
  return out;
}

function checkReachable(flow: Flow, edges: FlowEdge[]): FlowIssue[] {
  const seen = new Set<string>();
  const queue = [flow.initial, ...edges.filter((e) => e.from === "*").map((e) => e.to)];
  while (queue.length > 0) {
    const s = queue.shift();
    if (s === undefined || seen.has(s)) continue;
    seen.add(s);
    for (const e of edges) if (e.from === s) queue.push(e.to);
  }
  return Object.keys(flow.states)
    .filter((s) => !seen.has(s))
    .map((s) =>
      issue("unreachable-state", s, ["states", s], `no path from "${flow.initial}" reaches this state`),
    );
}

function checkStates(flow: Flow): FlowIssue[] {
  const out: FlowIssue[] = [];
  for (const [name, state] of Object.entries(flow.states)) {
    const on = state.on ?? {};
    const actions = actionsOf(state);
    const base = ["states", name];
    if (isTerminal(state)) {
      if (intentBranches(state).length > 0) {
        out.push(
          issue(
            "terminal-listens",
            name,
            [...base, "on"],
            `terminal state has caller branches (${intentBranches(state).join(", ")}) it can never take`,
          ),
        );
      }
    } else if (state.resume !== true) {
      const forward =
        listens(state) || state.next !== undefined || on.success !== undefined || state.check !== undefined;
      if (state.on === undefined && state.next === undefined) {
        out.push(
          issue(
            "missing-on",
            name,
            base,
            "non-terminal state has no `on` branch map (add `on`, `next` or `end`)",
          ),
        );
      } else if (!forward) {
        out.push(
          issue(
            "missing-on",
            name,
            [...base, "on"],
            "non-terminal state has no way forward: no caller branch, no `success` branch and no `next`",
          ),
        );
      }
    }
    if (listens(state) && on.no_speech === undefined) {
      out.push(
        issue("missing-no-speech", name, [...base, "on"], "listening state has no `no_speech` branch"),
      );
    }
    if (actions.length > 0 && on.failure === undefined) {
      out.push(
        issue(
          "missing-failure-branch",
          name,
          [...base, "on"],
          `action ${actions.map((a) => a.name).join(", ")} has no \`failure\` branch`,
        ),
      );
    }
    actionsOf(state).forEach((a, i) => {
      if (!(KNOWN_ACTIONS as readonly string[]).includes(a.name)) {
        const path = Array.isArray(state.action) ? [...base, "action", String(i)] : [...base, "action"];
        out.push(
          issue(
            "unknown-action",
            name,
            path,
            `unknown action "${a.name}" (known: ${KNOWN_ACTIONS.join(", ")})`,
          ),
        );
      }
    });
    if (state.check === "working_hours") {
      if (on.open === undefined || on.closed === undefined) {
        out.push(
          issue(
            "missing-hours-branch",
            name,
            [...base, "on"],
            "working-hours check needs both `open` and `closed` branches",
          ),
        );
      }
      if (flow.workingHours === undefined) {
        out.push(
          issue(
            "missing-hours-branch",
            name,
            ["workingHours"],
            "working-hours check but the flow declares no `workingHours`",
          ),
        );
      }
    }
    for (const [key, mapping] of Object.entries(state.dtmf ?? {})) {
      const branch = typeof mapping === "string" ? mapping : mapping.branch;
      if (!intentBranches(state).includes(branch)) {
        out.push(
          issue(
            "dtmf-unknown-branch",
            name,
            [...base, "dtmf", key],
            `DTMF key ${key} maps to "${branch}", which is not a caller branch of this state`,
          ),
        );
      }
    }
    if (state.reprompt !== undefined) {
      const chain = [name];
      let at = state.reprompt.exhausted;
      while (flow.states[at]?.reprompt !== undefined && !chain.includes(at)) {
        chain.push(at);
        at = flow.states[at]?.reprompt?.exhausted ?? "";
      }
      if (at === name) {
        out.push(
          issue(
            "reprompt-then-cycle",
            name,
            [...base, "reprompt", "exhausted"],
            `reprompts-exhausted targets loop back (${[...chain, name].join(" -> ")}); exhaustion must end in a handoff or close`,
          ),
        );
      }
    }
  }
  if (flow.direction === "outbound") {
    const first = flow.states[flow.initial];
    if (first !== undefined && first.on?.voicemail === undefined) {
      out.push(
        issue(
          "missing-voicemail",
          flow.initial,
          ["states", flow.initial, "on"],
          "first state of an outbound flow has no `voicemail` branch",
        ),
      );
    }
  }
  const close = flow.states[flow.global.max_duration];
  if (close !== undefined && (!isTerminal(close) || actionsOf(close).length > 0)) {
    out.push(
      issue(
        "close-not-terminal",
        flow.global.max_duration,
        ["global", "max_duration"],
        "the max-duration close must be a terminal state without actions",
      ),
    );
  }
  return out;
}

function checkVariables(flow: Flow): FlowIssue[] {
  const out: FlowIssue[] = [];
  const providers = new Map<string, string[]>();
  const addProvider = (v: string, by: string) => providers.set(v, [...(providers.get(v) ?? []), by]);
  for (const [name, state] of Object.entries(flow.states)) {
    for (const c of state.capture ?? []) addProvider(c, `capture in "${name}"`);
    for (const a of actionsOf(state))
      for (const p of a.provides ?? []) addProvider(p, `action ${a.name} in "${name}"`);
    for (const m of Object.values(state.dtmf ?? {}))
      if (typeof m !== "string")
        for (const k of Object.keys(m.captures ?? {})) addProvider(k, `DTMF in "${name}"`);
  }
  for (const [name, state] of Object.entries(flow.states)) {
    const own = new Set(actionsOf(state).flatMap((a) => a.provides ?? []));
    for (const t of stateTemplates(name, state)) {
      for (const v of templateVariables(t.text)) {
        const decl = flow.variables[v];
        if (decl?.required === true || (t.spoken && decl?.fallback !== undefined)) continue;
        const afterActions = t.path[t.path.length - 1] !== "hold";
        if (own.has(v) && afterActions) continue;
        const elsewhere = providers.get(v);
        if (!t.spoken && (elsewhere !== undefined || decl !== undefined)) continue;
        const why =
          elsewhere !== undefined
            ? `it is not guaranteed here (only ${elsewhere.join(", ")}) and it has no fallback`
            : decl !== undefined
              ? "it is declared but neither required nor given a fallback, and nothing captures or provides it"
              : "nothing provides it (not a required call variable, capture or action result) and it has no fallback";
        out.push(issue("unprovided-variable", name, t.path, `template variable {{${v}}}: ${why}`));
      }
    }
  }
  return out;
}

/** Strongly connected components (Tarjan), over states only. */
function components(nodes: string[], next: (n: string) => string[]): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      out.push(comp);
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

function checkCycles(flow: Flow, edges: FlowEdge[]): FlowIssue[] {
  const order = Object.keys(flow.states);
  const free = order.filter((s) => flow.states[s]?.reprompt === undefined);
  const freeSet = new Set(free);
  const next = (n: string) =>
    edges.filter((e) => e.from === n && e.kind !== "global" && freeSet.has(e.to)).map((e) => e.to);
  const out: FlowIssue[] = [];
  for (const comp of components(free, next)) {
    const only = comp[0];
    const selfLoop = comp.length === 1 && only !== undefined && next(only).includes(only);
    if (comp.length < 2 && !selfLoop) continue;
    const sorted = [...comp].sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const head = sorted[0] ?? "";
    out.push(
      issue(
        "unbounded-cycle",
        head,
        ["states", head],
        `states ${sorted.join(", ")} form a cycle that can repeat forever: give one of them a \`reprompt\` limit`,
      ),
    );
  }
  return out;
}

/** Run every static check. An empty array means the flow is safe to run. */
export function checkFlow(flow: Flow): FlowIssue[] {
  const edges = flowEdges(flow);
  const targets = checkTargets(flow, edges);
  if (targets.length > 0) return targets;
  return [
    ...checkReachable(flow, edges),
    ...checkStates(flow),
    ...checkVariables(flow),
    ...checkCycles(flow, edges),
  ];
}
