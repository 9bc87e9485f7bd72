// Property tests: random event streams through both shipped flows keep the interpreter's invariants.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { actionsOf, intentBranches } from "../../src/flow/graph";
import { initialSnapshot, step } from "../../src/flow/interpreter";
import { DEFAULT_MAX_IGNORED_EVENTS, type Flow } from "../../src/flow/schema";
import type { FlowEvent, FlowSnapshot } from "../../src/flow/types";
import { answerActions, feed, loadShipped, reach, spoken } from "./helpers";
import { parseSpokenSlot, referenceLocal } from "./spoken-time";

type Symbolic =
  | { kind: "event"; event: FlowEvent }
  | { kind: "result"; index: number; ok: boolean; outcome: string | undefined; data: Record<string, string> };

function symbolicEvents(flow: Flow): fc.Arbitrary<Symbolic> {
  const states = Object.values(flow.states);
  const branches = [...new Set(states.flatMap((s) => intentBranches(s))), "opt_out", "zz_garbage"];
  const captureKeys = [...new Set(states.flatMap((s) => s.capture ?? [])), "undeclared"];
  const provides = [...new Set(states.flatMap((s) => actionsOf(s).flatMap((a) => a.provides ?? [])))];
  const outcomes = [
    ...new Set(states.flatMap((s) => actionsOf(s).flatMap((a) => a.outcomes ?? []))),
    "weird",
  ];
  const value = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("slot_1", "slot_2", "{{first_name}}", "}}{{", "not a time"),
    fc
      .integer({ min: Date.parse("2025-01-01T00:00:00Z"), max: Date.parse("2029-01-01T00:00:00Z") })
      .map((ms) => new Date(ms).toISOString()),
  );
  const record = (keys: string[]) => fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 3 });
  const ev = (a: fc.Arbitrary<FlowEvent>, weight: number) => ({
    arbitrary: a.map((event): Symbolic => ({ kind: "event", event })),
    weight,
  });
  return fc.oneof(
    ev(
      fc.record({
        type: fc.constant("intent" as const),
        branch: fc.constantFrom(...branches),
        captures: record(captureKeys),
      }),
      10,
    ),
    ev(fc.constant({ type: "no_speech" as const }), 5),
    ev(
      fc.constantFrom(..."0123456789*#".split("")).map((digit) => ({ type: "dtmf" as const, digit })),
      2,
    ),
    ev(
      fc
        .constantFrom("human", "machine", "unknown")
        .map((result) => ({ type: "amd" as const, result: result as "human" })),
      1,
    ),
    ev(
      fc.string({ maxLength: 6 }).map((actionId) => ({ type: "action_result" as const, actionId, ok: true })),
      1,
    ),
    ev(fc.constant({ type: "opt_out" as const }), 1),
    {
      arbitrary: fc.record({
        kind: fc.constant("result" as const),
        index: fc.nat({ max: 2 }),
        ok: fc.boolean(),
        outcome: fc.option(fc.constantFrom(...outcomes), { nil: undefined }),
        data: record(provides.length > 0 ? provides : ["x"]),
      }),
      weight: 8,
    },
  );
}

function concrete(snap: FlowSnapshot, s: Symbolic): FlowEvent {
  if (s.kind === "event") return s.event;
  const pending = snap.pending?.actions ?? [];
  const target = pending[s.index % Math.max(1, pending.length)];
  const base = { type: "action_result" as const, actionId: target?.id ?? "stale", ok: s.ok, data: s.data };
  return s.outcome === undefined ? base : { ...base, outcome: s.outcome };
}

/** An upper bound on events before any call must end, from the flow's reprompt limits and ignored-event cap. */
function eventBound(flow: Flow): number {
  const states = Object.values(flow.states);
  const limited = states.reduce((n, s) => n + (s.reprompt === undefined ? 0 : s.reprompt.max + 1), 0);
  const maxActions = Math.max(1, ...states.map((s) => actionsOf(s).length));
  const ignored = flow.limits?.maxIgnoredEvents ?? DEFAULT_MAX_IGNORED_EVENTS;
  return ignored + 2 + (limited + 1) * states.length * maxActions;
}

for (const name of ["outbound-booking", "inbound-triage"] as const) {
  describe(`${name}: random event streams`, () => {
    const flow = loadShipped(name);
    const bound = eventBound(flow);

    it(`stays in defined states, never speaks a placeholder, and ends within ${bound} events`, () => {
      fc.assert(
        fc.property(
          fc.infiniteStream(symbolicEvents(flow)),
          fc.integer({ min: Date.parse("2025-01-01T00:00:00Z"), max: Date.parse("2028-12-31T00:00:00Z") }),
          fc.constantFrom("Alex", "{{first_name}}", "O'Neil"),
          (stream, startMs, firstName) => {
            let snap = initialSnapshot(flow, { first_name: firstName }, startMs);
            let now = startMs;
            let events = 0;
            snap = step(flow, snap, { type: "start" }, now).snapshot;
            const it = stream[Symbol.iterator]();
            while (snap.status !== "ended" && events < bound) {
              const next = it.next();
              if (next.done === true) break;
              now += 700;
              events += 1;
              const r = step(flow, snap, concrete(snap, next.value), now);
              expect(flow.states[r.snapshot.state]).toBeDefined();
              for (const text of spoken(r.effects)) expect(text).not.toMatch(/\{\{|\}\}/);
              expect(JSON.parse(JSON.stringify(r))).toEqual(r);
              snap = r.snapshot;
            }
            expect(snap.status).toBe("ended");
          },
        ),
        { numRuns: 150 },
      );
    });
  });
}

describe("outbound-booking: the time confirmed aloud is the time booked", () => {
  const flow = loadShipped("outbound-booking");
  it("for random booked instants and callee zones, across BST/GMT changes", () => {
    fc.assert(
      fc.property(
        fc.integer({
          min: Date.parse("2025-01-01T00:00:00Z") / 60_000,
          max: Date.parse("2028-12-31T00:00:00Z") / 60_000,
        }),
        fc.constantFrom("Europe/London", "Europe/Dublin", "America/New_York", "Asia/Kolkata"),
        (minute, tz) => {
          const booked = new Date(minute * 60_000).toISOString();
          const run = reach(flow, "confirm");
          run.snap.vars.time_zone = tz;
          const results = answerActions(run, "success").map((e) =>
            e.type === "action_result" && e.actionId === "confirm.1.0"
              ? { ...e, data: { booked_start: booked } }
              : e,
          );
          const line = spoken(feed(run, ...results)).find((t) => t.startsWith("Booked."));
          const said = /See you (.+)\.$/.exec(line ?? "")?.[1] ?? "";
          const heard = parseSpokenSlot(said);
          const ref = referenceLocal(Date.parse(booked), tz);
          expect([heard.hour, heard.minute]).toEqual([ref.h, ref.mi]);
          if (heard.day !== undefined) expect(heard.day).toBe(ref.d);
        },
      ),
      { numRuns: 200 },
    );
  });
});
