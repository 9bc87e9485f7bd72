import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flowEdges } from "../../src/flow/graph";
import { parseFlow } from "../../src/flow/schema";
import { templateVariables } from "../../src/flow/template";
import type { Effect } from "../../src/flow/types";
import { cacheableLines } from "../../src/tts-cache/lines";
import { begin, CALL_VARS, eventsFor, feed, loadShipped, MONDAY_10AM, SUNDAY_NOON } from "../flow/helpers";

const SHIPPED = ["outbound-booking", "inbound-triage"] as const;

describe.each(SHIPPED)("cacheableLines(%s)", (name) => {
  const flow = loadShipped(name);
  const lines = cacheableLines(flow);

  it("returns only text with no template braces", () => {
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l.text).not.toMatch(/\{|\}/);
  });

  it("includes every say/ask/hold/reprompt line without variables, and none with variables", () => {
    const ids = new Set(lines.map((l) => l.lineId));
    for (const [stateId, state] of Object.entries(flow.states)) {
      const spoken = { say: state.say, ask: state.ask, hold: state.hold, reprompt: state.reprompt?.say };
      for (const [key, template] of Object.entries(spoken)) {
        if (template === undefined) continue;
        const expected = templateVariables(template).length === 0;
        expect(ids.has(`${stateId}.${key}`), `${stateId}.${key}`).toBe(expected);
      }
    }
  });

  it("includes the flow's own reprompt line", () => {
    expect(lines).toContainEqual({
      stateId: "reprompt",
      lineId: "reprompt.say",
      text: "Sorry, I didn't quite catch that.",
    });
  });

  it("matches, word for word, every cacheable line the interpreter speaks on random calls", () => {
    const byId = new Map(lines.map((l) => [l.lineId, l.text]));
    const edges = flowEdges(flow).filter((e) => e.kind !== "resume" && e.kind !== "exhausted");
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.nat(), { maxLength: 25 }), (closed, picks) => {
        const run = begin(flow, closed ? SUNDAY_NOON : MONDAY_10AM, CALL_VARS);
        const said: Effect[] = [...feed(run, { type: "start" })];
        for (const pick of picks) {
          if (run.snap.status === "ended") break;
          const from = edges.filter((e) => e.from === run.snap.state);
          const edge = from[pick % Math.max(1, from.length)];
          if (edge === undefined) break;
          said.push(...feed(run, ...eventsFor(run, edge)));
        }
        for (const e of said) {
          if (e.type !== "say" || !e.cacheable) continue;
          expect(byId.get(e.lineId), e.lineId).toBe(e.text);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("cacheableLines", () => {
  it("skips lines that use variables even when they have spoken fallbacks, and tidies text as spoken", () => {
    const flow = parseFlow({
      id: "tiny",
      direction: "inbound",
      initial: "hello",
      variables: { name: { fallback: "there" } },
      global: { opt_out: "bye", max_duration: "bye" },
      states: {
        hello: { say: "Hi {{name}}.", ask: "  How can   we help ? ", on: { done: "bye" } },
        bye: { say: "Goodbye.", end: "hangup" },
      },
    });
    expect(cacheableLines(flow)).toEqual([
      { stateId: "hello", lineId: "hello.ask", text: "How can we help?" },
      { stateId: "bye", lineId: "bye.say", text: "Goodbye." },
    ]);
  });
});
