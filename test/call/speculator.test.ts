import { describe, expect, it } from "vitest";
import type { TurnOutcome } from "../../src/call/decide";
import { Speculator } from "../../src/call/speculator";

const yes: TurnOutcome = {
  kind: "event",
  by: "llm",
  event: { type: "intent", branch: "positive", text: "x" },
};

let now = 0;

function speculator() {
  const calls: { text: string; signal: AbortSignal }[] = [];
  const s = new Speculator(
    async (text, signal) => {
      calls.push({ text, signal });
      return yes;
    },
    1_000,
    () => now,
    (delayMs, fn) => {
      const t = setTimeout(fn, delayMs);
      return () => clearTimeout(t);
    },
  );
  return { s, calls };
}

/** Feed interims at given clock times. */
function feed(s: Speculator, stateId: string, items: [number, string][]): void {
  for (const [at, text] of items) {
    now = at;
    s.interim(text, stateId);
  }
}

describe("Speculator", () => {
  it("starts once an interim is stable and hands the decision over when the final matches", async () => {
    const { s, calls } = speculator();
    feed(s, "qualify", [
      [0, "we are looking at it"],
      [300, "we are looking at it"],
    ]);
    expect(calls).toHaveLength(1);
    const taken = s.take("We are looking at it.", "qualify");
    expect(taken).not.toBeNull();
    expect(await taken).toEqual(yes);
    expect(s.stats).toMatchObject({ started: 1, used: 1, discarded: 0 });
  });

  it("discards and aborts a speculation the final transcript does not match", () => {
    const { s, calls } = speculator();
    feed(s, "qualify", [
      [0, "we are looking"],
      [300, "we are looking"],
    ]);
    expect(s.take("we are looking at other vendors", "qualify")).toBeNull();
    expect(calls[0]?.signal.aborted).toBe(true);
    expect(s.stats.discarded).toBe(1);
  });

  it("never reuses a decision made in another state", () => {
    const { s } = speculator();
    feed(s, "greeting", [
      [0, "yes please"],
      [300, "yes please"],
    ]);
    expect(s.take("yes please", "qualify")).toBeNull();
  });

  it("starts when the caller pauses after a stable interim, with no further interim arriving", async () => {
    const { s, calls } = speculator();
    feed(s, "qualify", [[1_000, "we are looking at it this quarter"]]);
    expect(calls).toHaveLength(0);
    now = 1_300;
    await new Promise((r) => setTimeout(r, 300));
    expect(calls.map((c) => c.text)).toEqual(["we are looking at it this quarter"]);
    s.cancel();
  });

  it("does not start on unstable or dangling interims", () => {
    const { s, calls } = speculator();
    feed(s, "qualify", [
      [0, "I think"],
      [100, "I think we"],
      [200, "I think we are and"],
    ]);
    expect(calls).toHaveLength(0);
    s.cancel();
    expect(s.take("I think we are and", "qualify")).toBeNull();
  });
});
