import { describe, expect, it } from "vitest";
import { runTurnBench } from "../../src/tooling/bench/turn-bench";

describe("runTurnBench", () => {
  it("reports fast-path share and precision on the corpus, chunker first-phrase size and throughput", async () => {
    const results = await runTurnBench();
    const value = (name: string): number | undefined => results.find((r) => r.name === name)?.value;
    expect(value("fast_path.corpus_turns")).toBeGreaterThanOrEqual(150);
    expect(value("fast_path.precision")).toBe(100);
    expect((value("fast_path.share") ?? 0) + (value("fast_path.abstain_share") ?? 0)).toBeCloseTo(100, 6);
    expect(value("fast_path.throughput")).toBeGreaterThan(0);
    const first = value("chunker_first5.first_phrase_chars_p50") ?? Number.POSITIVE_INFINITY;
    expect(first).toBeLessThan(value("chunker.first_phrase_chars_p50") ?? 0);
    for (const r of results) expect(Number.isFinite(r.value)).toBe(true);
  });
});
