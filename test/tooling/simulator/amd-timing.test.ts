import { describe, expect, it } from "vitest";
import { amdDelayMs, REALISTIC_AMD_DELAY_MS, seededRandom } from "../../../src/tooling/simulator/amd-timing";
import { parseCallScript, scriptedUtterances } from "../../../src/tooling/simulator/script";

describe("AMD timing in call scripts", () => {
  it("draws a realistic delay after answer from the seed, the same seed the same delay", () => {
    const a = amdDelayMs({ answeredBy: "human" }, "answer", seededRandom("case-50"));
    expect(a).toBeGreaterThanOrEqual(REALISTIC_AMD_DELAY_MS.min);
    expect(a).toBeLessThanOrEqual(REALISTIC_AMD_DELAY_MS.max);
    expect(amdDelayMs({ answeredBy: "human" }, "answer", seededRandom("case-50"))).toBe(a);
    expect(amdDelayMs({ answeredBy: "human" }, "agentReply", seededRandom("x"))).toBe(0);
    expect(amdDelayMs({ answeredBy: "human", afterMs: 750 }, "answer", seededRandom("x"))).toBe(750);
  });

  it("keeps the bare turn-level amd form and accepts schedules, refusing turn anchors at call level", () => {
    const script = parseCallScript({
      flow: "outbound-booking",
      amdAt: [{ answeredBy: "human", from: "agentAudio", afterMs: 500 }],
      turns: [
        { amd: "machine_end_beep" },
        { say: "yes", amd: { answeredBy: "human", from: "agentReply" }, stt: { speechFinal: false } },
      ],
    });
    expect(script.turns[0]?.amd).toBe("machine_end_beep");
    expect(script.amdAt).toHaveLength(1);
    expect(scriptedUtterances(script.turns)).toEqual([{ text: "yes", speechFinal: false }]);
    expect(() =>
      parseCallScript({ flow: "x", amdAt: [{ answeredBy: "human", from: "speechEnd" }], turns: [] }),
    ).toThrow(/answer or agentAudio/);
  });
});
