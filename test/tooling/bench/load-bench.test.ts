import { describe, expect, it } from "vitest";
import { sweepRows } from "../../../src/tooling/bench/load-bench";

describe("sweepRows", () => {
  it("reports the headroom and each level's figures", () => {
    const rows = sweepRows({
      limitMs: 20,
      headroomCalls: 10,
      levels: [
        {
          calls: 10,
          placed: 24,
          failed: 0,
          overheadP99Ms: 14,
          latencyP99Ms: 530,
          lateOrDroppedFrames: 0,
          cpuMsPerCallMinute: 1650,
          peakRssMb: 320,
          machineBusy: 0.41,
          ok: true,
          downAfterS: null,
        },
        {
          calls: 50,
          placed: 50,
          failed: 3,
          overheadP99Ms: null,
          latencyP99Ms: null,
          lateOrDroppedFrames: 12,
          cpuMsPerCallMinute: null,
          peakRssMb: null,
          machineBusy: null,
          ok: false,
          downAfterS: 75,
        },
      ],
    });
    const byName = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    expect(byName["load.headroom_calls"]).toBe(10);
    expect(byName["load.10_calls.overhead_p99"]).toBe(14);
    expect(byName["load.10_calls.machine_cpu_busy"]).toBe(41);
    expect(byName["load.50_calls.failed_calls"]).toBe(3);
    expect("load.50_calls.overhead_p99" in byName).toBe(false);
    expect(byName["load.50_calls.worker_down_after"]).toBe(75);
    expect("load.10_calls.worker_down_after" in byName).toBe(false);
  });
});
