import { describe, expect, it } from "vitest";
import { runDashboardBench } from "../../src/tooling/bench/dashboard-bench";

describe("runDashboardBench", () => {
  it("seeds calls and reports the calls page's server time for each scenario", async () => {
    const results = await runDashboardBench({ calls: 300, iterations: 2 });
    const names = results.map((r) => r.name);
    expect(names).toContain("dashboard seeded calls");
    for (const s of ["first page", "campaign filter", "score filter", "deep keyset page"]) {
      const p50 = results.find((r) => r.name === `calls page (${s}) p50`);
      expect(p50?.unit).toBe("ms");
      expect(p50?.value).toBeGreaterThan(0);
    }
  }, 120_000);
});
