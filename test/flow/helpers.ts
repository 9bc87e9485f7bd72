// Test helpers: load shipped flows, feed events, answer pending actions, and drive a call to any state.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type FlowEdge, flowEdges, listens } from "../../src/flow/graph";
import { initialSnapshot, step } from "../../src/flow/interpreter";
import { type Flow, parseFlow } from "../../src/flow/schema";
import type { Effect, FlowEvent, FlowSnapshot } from "../../src/flow/types";

/** Monday 2 March 2026, 10:00 London (GMT): inside working hours and the calling window. */
export const MONDAY_10AM = Date.parse("2026-03-02T10:00:00Z");
/** Sunday 1 March 2026, noon London: out of hours. */
export const SUNDAY_NOON = Date.parse("2026-03-01T12:00:00Z");

export const CALL_VARS = { first_name: "Alex", email: "alex@example.co.uk", caller_number: "+447700900123" };

/** Parse a flow file under src/flows. */
export function loadShipped(name: "outbound-booking" | "inbound-triage"): Flow {
  const url = new URL(`../../src/flows/${name}.json`, import.meta.url);
  return parseFlow(JSON.parse(readFileSync(fileURLToPath(url), "utf8")));
}

/** Parse a fixture under test/flow/fixtures. */
export function loadFixture(name: string): unknown {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), "utf8"));
}

/** A call in flight: the snapshot plus every effect so far. */
export interface Run {
  flow: Flow;
  snap: FlowSnapshot;
  effects: Effect[];
  nowMs: number;
}

export function begin(flow: Flow, nowMs = MONDAY_10AM, vars: Record<string, string> = CALL_VARS): Run {
  const snap = initialSnapshot(flow, vars, nowMs);
  return { flow, snap, effects: [], nowMs };
}

/** Apply events in order; returns the effects of these events only. */
export function feed(run: Run, ...events: FlowEvent[]): Effect[] {
  const out: Effect[] = [];
  for (const e of events) {
    run.nowMs += 1000;
    const r = step(run.flow, run.snap, e, run.nowMs);
    run.snap = r.snapshot;
    out.push(...r.effects);
  }
  run.effects.push(...out);
  return out;
}

/** Plausible data for what the pending actions provide: instants one and two days ahead, text otherwise. */
function dataFor(run: Run, provides: string[]): Record<string, string> {
  const data: Record<string, string> = {};
  provides.forEach((p, i) => {
    data[p] =
      run.flow.variables[p]?.type === "instant"
        ? new Date(Date.parse("2026-03-03T10:30:00Z") + i * 86_400_000).toISOString()
        : `${p}-value`;
  });
  return data;
}

/** action_result events answering every pending action: "success", "failure" (first required action fails) or a declared outcome. */
export function answerActions(run: Run, outcome: string): FlowEvent[] {
  const pending = run.snap.pending;
  if (pending === null) return [];
  const state = run.flow.states[pending.stateId];
  const raw = state?.action;
  const specs =
    raw === undefined
      ? []
      : (Array.isArray(raw) ? raw : [raw]).map((a) => (typeof a === "string" ? { name: a } : a));
  let failed = false;
  return pending.actions.map((a, i) => {
    const provides = specs[i] !== undefined && "provides" in specs[i] ? (specs[i].provides ?? []) : [];
    if (outcome === "failure" && !a.optional && !failed) {
      failed = true;
      return { type: "action_result", actionId: a.id, ok: false };
    }
    if (outcome !== "success" && outcome !== "failure" && a.outcomes.includes(outcome)) {
      return { type: "action_result", actionId: a.id, ok: true, outcome };
    }
    return { type: "action_result", actionId: a.id, ok: true, data: dataFor(run, provides) };
  });
}

/** Events that take the branch of `edge` from the state the run is in (answering pending actions first if needed). */
export function eventsFor(run: Run, edge: FlowEdge): FlowEvent[] {
  if (edge.kind === "outcome") return answerActions(run, edge.label);
  const settle = run.snap.phase === "actions" && edge.kind !== "global" ? answerActions(run, "success") : [];
  if (settle.length > 0) feed(run, ...settle);
  switch (edge.kind) {
    case "intent":
      return [{ type: "intent", branch: edge.label }];
    case "system":
      if (edge.label === "voicemail") return [{ type: "amd", result: "machine" }];
      if (edge.label === "no_match") return [{ type: "intent", branch: "zz_not_a_branch" }];
      return [{ type: "no_speech" }];
    case "global":
      return edge.label === "opt_out" ? [{ type: "opt_out" }] : [{ type: "max_duration" }];
    default:
      return [];
  }
}

/** Shortest chain of edges from the initial state to `target` (global branches usable from listening states). */
export function pathTo(flow: Flow, target: string, closed: boolean): FlowEdge[] {
  const edges = flowEdges(flow).filter((e) => e.kind !== "resume" && e.kind !== "exhausted");
  const prev = new Map<string, FlowEdge | null>([[flow.initial, null]]);
  const queue = [flow.initial];
  while (queue.length > 0) {
    const s = queue.shift() ?? "";
    if (s === target) break;
    const state = flow.states[s];
    for (const e of edges) {
      const usable =
        e.from === s
          ? !(e.kind === "hours" && e.label !== (closed ? "closed" : "open"))
          : e.from === "*" && state !== undefined && listens(state);
      if (!usable || prev.has(e.to)) continue;
      prev.set(e.to, { ...e, from: s });
      queue.push(e.to);
    }
  }
  if (!prev.has(target)) throw new Error(`no path to ${target}`);
  const chain: FlowEdge[] = [];
  for (let at = prev.get(target); at !== null && at !== undefined; at = prev.get(at.from)) chain.unshift(at);
  return chain;
}

/** Start a call and drive it until `target` has just been entered. */
export function reach(flow: Flow, target: string, closed = false): Run {
  const run = begin(flow, closed ? SUNDAY_NOON : MONDAY_10AM);
  feed(run, { type: "start" });
  for (const edge of pathTo(flow, target, closed)) feed(run, ...eventsFor(run, edge));
  if (!run.snap.path.includes(target))
    throw new Error(`drove to ${target} but path is ${run.snap.path.join(",")}`);
  return run;
}

/** The say texts among effects. */
export function spoken(effects: Effect[]): string[] {
  return effects.flatMap((e) => (e.type === "say" ? [e.text] : []));
}
