import { describe, expect, it } from "vitest";
import {
  buildLoadReport,
  endpointingFor,
  formatLoadReport,
  formatSweep,
  summarizeSweep,
} from "../../../src/tooling/load/report";

const run = {
  calls: 2,
  rampMs: 0,
  url: "http://127.0.0.1:8787",
  script: "s.json",
  endpointingMs: [500, 600],
  wallMs: 1000,
  generatorLagP99Ms: 3,
};

describe("load report", () => {
  it("repeats the last endpointing value", () => {
    expect(endpointingFor([500, 600], 0)).toBe(500);
    expect(endpointingFor([500, 600], 5)).toBe(600);
  });

  it("aggregates calls, overhead per turn and errors", () => {
    const r = buildLoadReport(
      run,
      [
        { ok: true, error: null, durationMs: 30_000, turnLatenciesMs: [520, 640, 610], agentMessages: [] },
        {
          ok: false,
          error: "media upgrade answered 500",
          durationMs: 10,
          turnLatenciesMs: [],
          agentMessages: [],
        },
      ],
      { pids: [], cpu: null, peakRssMb: null, vmHwmMb: null },
    );
    expect(r.completed).toBe(1);
    expect(r.failed).toBe(1);
    expect(r.errors).toEqual({ "media upgrade answered 500": 1 });
    expect(r.turnLatencyMs.count).toBe(3);
    expect(r.overheadMs).toMatchObject({ p50: 20, max: 40 });
    expect(formatLoadReport(r)).toContain("1 completed, 1 failed");
  });

  it("describes a held run and the machine's load", () => {
    const r = buildLoadReport(
      { ...run, calls: 5, placed: 12, holdMs: 90_000, rampMs: 40_000, machineBusy: 0.42 },
      [{ ok: true, error: null, durationMs: 30_000, turnLatenciesMs: [510], agentMessages: [] }],
      { pids: [], cpu: null, peakRssMb: null, vmHwmMb: null },
    );
    const text = formatLoadReport(r);
    expect(text).toContain("5 concurrent calls held for 90 s (12 placed back to back");
    expect(text).toContain("machine CPU busy 42% of all cores");
  });

  it("finds the sweep's headroom: the highest level that, with every level below, stayed within the limit", () => {
    const level = (calls: number, latencies: number[], failed = false) =>
      buildLoadReport(
        { ...run, calls, holdMs: 60_000 },
        [
          {
            ok: !failed,
            error: failed ? "no reply" : null,
            durationMs: 40_000,
            turnLatenciesMs: latencies,
            agentMessages: [],
          },
        ],
        {
          pids: [1],
          cpu: { cpuMs: 900, callMinutes: 0.5, cpuMsPerCallMinute: 1800 },
          peakRssMb: 200,
          vmHwmMb: 210,
        },
      );
    // endpointing 500/600: overheads 10/15 ms (ok), 30 ms (over), 5 ms but a failed call.
    const sweep = summarizeSweep(
      [level(20, [530]), level(1, [510, 615]), level(10, [515]), level(50, [505], true)],
      20,
    );
    expect(sweep.levels.map((l) => [l.calls, l.ok])).toEqual([
      [1, true],
      [10, true],
      [20, false],
      [50, false],
    ]);
    expect(sweep.headroomCalls).toBe(10);
    expect(formatSweep(sweep)).toContain("headroom: 10 concurrent calls");
    expect(summarizeSweep([level(5, [560])], 20).headroomCalls).toBeNull();
    const down = buildLoadReport({ ...run, calls: 200, holdMs: 60_000, targetDownAtMs: 75_400 }, [], {
      pids: [],
      cpu: null,
      peakRssMb: null,
      vmHwmMb: null,
    });
    expect(formatLoadReport(down)).toContain("the Worker stopped answering 75 s into the run");
    expect(formatSweep(summarizeSweep([down], 20))).toContain("no: the Worker went down after 75 s");
  });

  it("takes our overhead from the STT final to the first audio, less provider time, where both are known", () => {
    const r = buildLoadReport(
      run,
      [
        {
          ok: true,
          error: null,
          durationMs: 30_000,
          turnLatenciesMs: [530, 1_000],
          // STT final → first audio at the phone: 12 ms and 410 ms.
          turnTimes: [
            { finalSentAtMs: 1_000, agentReplyAtMs: 1_012 },
            { finalSentAtMs: 5_000, agentReplyAtMs: 5_410 },
          ],
          providerMs: [0, 400],
          agentMessages: [],
        },
        // No final known: falls back to latency beyond endpointing (560 - 500).
        {
          ok: true,
          error: null,
          durationMs: 30_000,
          turnLatenciesMs: [560],
          providerMs: [0],
          agentMessages: [],
        },
      ],
      { pids: [], cpu: null, peakRssMb: null, vmHwmMb: null },
    );
    expect(r.attributedTurns).toBe(2);
    expect(r.overheadMs).toMatchObject({ count: 3, p50: 12, max: 60 });
    expect(r.beyondEndpointingMs.max).toBe(400);
  });
});
