import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getFlow } from "../../../src/call/flows";
import type { Flow } from "../../../src/flow/schema";
import { scoreFastPathOnReplay } from "../../../src/tooling/simulator/replay-fast-path";
import { parseReplayCase } from "../../../src/tooling/simulator/script";

const DIR = "test/replay/cases";
const suite = readdirSync(DIR)
  .filter((f) => f.endsWith(".json"))
  .map((f) => {
    const replay = parseReplayCase(readFileSync(join(DIR, f), "utf8"), f);
    return { replay, flow: getFlow(replay.flow) as Flow };
  });

describe("fast path on the replay suite", () => {
  it("never contradicts a labelled decision, and decides a share of the turns without the LLM", () => {
    const score = scoreFastPathOnReplay(suite);
    expect(score.turns).toBeGreaterThan(25);
    expect(score.decided).toBeGreaterThan(0);
    expect(score.decided).toBeLessThan(score.turns); // some turns need the LLM
    expect(score.disagreements).toEqual([]);
    expect(score.agreed).toBe(score.decided);
  });

  it("reports a turn whose label the fast path contradicts", () => {
    const first = suite.find((s) => s.replay.flow === "outbound-booking");
    if (!first) throw new Error("no booking case");
    const replay = parseReplayCase(
      JSON.stringify({
        name: "mislabelled",
        description: "a label the fast path contradicts",
        flow: "outbound-booking",
        vars: { first_name: "Ada" },
        turns: [{ say: "yes speaking", decision: { state: "greeting", branch: "wrong_person" } }],
        expect: { path: ["greeting"] },
      }),
      "mislabelled.json",
    );
    const score = scoreFastPathOnReplay([{ replay, flow: first.flow }]);
    expect(score).toMatchObject({ turns: 1, decided: 1, agreed: 0 });
    expect(score.disagreements).toEqual([
      { caseName: "mislabelled", turn: 1, state: "greeting", expected: "wrong_person", got: "yes" },
    ]);
  });
});
