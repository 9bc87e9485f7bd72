// Every transition of both shipped flows, one test each: drive a call to the source state, fire the branch, check the target.
import { describe, expect, it } from "vitest";
import { flowEdges, isTerminal, listens } from "../../src/flow/graph";
import type { Flow } from "../../src/flow/schema";
import { eventsFor, feed, loadShipped, reach } from "./helpers";

function consecutive(path: string[], a: string, b: string): boolean {
  return path.some((s, i) => s === a && path[i + 1] === b);
}

function transitionSuite(flow: Flow): void {
  const edges = flowEdges(flow);
  const closedOnly = (state: string) =>
    flow.initial === "check_hours" && ["out_of_hours", "route_to_queue"].includes(state);

  for (const edge of edges.filter((e) => e.kind !== "global")) {
    it(`${edge.from} --${edge.label}--> ${edge.to}`, () => {
      if (edge.kind === "hours") {
        const run = reach(flow, edge.to, edge.label === "closed");
        expect(consecutive(run.snap.path, edge.from, edge.to)).toBe(true);
        return;
      }
      if (edge.kind === "next") {
        const run = reach(flow, edge.from, closedOnly(edge.from));
        expect(consecutive(run.snap.path, edge.from, edge.to)).toBe(true);
        return;
      }
      if (edge.kind === "resume") {
        const run = reach(flow, edge.to, closedOnly(edge.to));
        const into = edges.find((e) => e.from === edge.to && e.to === edge.from && e.kind !== "global");
        if (into === undefined) throw new Error("no edge into the resume state");
        const before = run.snap.path.length;
        feed(run, ...eventsFor(run, into));
        expect(run.snap.path.slice(before)).toEqual([edge.from, edge.to]);
        expect(run.snap.state).toBe(edge.to);
        return;
      }
      if (edge.kind === "exhausted") {
        const run = reach(flow, edge.from, closedOnly(edge.from));
        for (let i = 0; i < 12 && !run.snap.path.slice(-2).includes(edge.to); i += 1) {
          const silence = eventsFor(run, { ...edge, kind: "system", label: "no_speech" });
          feed(run, ...silence);
        }
        expect(run.snap.path.slice(-2)).toContain(edge.to);
        const exhausted = run.effects.filter(
          (e) => e.type === "log" && e.event.type === "reprompts_exhausted",
        );
        expect(exhausted.map((e) => (e.type === "log" ? e.event.state : ""))).toContain(edge.from);
        return;
      }
      const run = reach(flow, edge.from, closedOnly(edge.from));
      const events = eventsFor(run, edge);
      const before = run.snap.path.length;
      feed(run, ...events);
      expect(run.snap.path[before]).toBe(edge.to);
    });
  }

  const listening = Object.entries(flow.states)
    .filter(([, s]) => listens(s))
    .map(([n]) => n);
  for (const name of listening) {
    for (const edge of edges.filter((e) => e.kind === "global")) {
      it(`${name} --${edge.label} (global)--> ${edge.to}`, () => {
        const run = reach(flow, name, closedOnly(name));
        const before = run.snap.path.length;
        feed(run, ...eventsFor(run, edge));
        expect(run.snap.path[before]).toBe(edge.to);
        expect(isTerminal(flow.states[edge.to] ?? {})).toBe(true);
      });
    }
  }
}

describe("outbound-booking transitions", () => {
  transitionSuite(loadShipped("outbound-booking"));
});

describe("inbound-triage transitions", () => {
  transitionSuite(loadShipped("inbound-triage"));
});
