import { describe, expect, it } from "vitest";
import { DEFAULT_QA_CONFIG } from "../../src/qa/config";
import {
  type CallSummary,
  latencyHistogram,
  rollupCampaign,
  rollupCampaigns,
  summarizeCall,
  worstAbandonWindow,
} from "../../src/qa/rollups";
import { scoreCall } from "../../src/qa/scorecard";
import { bookedCall, CallBuilder, deafCall, IN_WINDOW_MS } from "./call-builder";

const HOUR = 3_600_000;

function summary(i: number, over: Partial<CallSummary> = {}): CallSummary {
  return {
    callSid: `CA${i}`,
    campaignId: "spring",
    startedAtMs: IN_WINDOW_MS + i * HOUR,
    outcome: "no_outcome",
    score: 80,
    liveAnswered: true,
    abandoned: false,
    turnTotalsMs: [800],
    unansweredTurns: 0,
    firstUnansweredMs: null,
    ...over,
  };
}

describe("summarizeCall", () => {
  it("counts a greeted human call as live-answered and not abandoned", () => {
    const events = bookedCall("CA1").events;
    const s = summarizeCall("CA1", events, DEFAULT_QA_CONFIG, scoreCall(events, DEFAULT_QA_CONFIG));
    expect(s).toMatchObject({
      liveAnswered: true,
      abandoned: false,
      outcome: "booked",
      turnTotalsMs: [700, 900, 800],
    });
  });

  it("counts a live answer greeted after more than 2 s, or never, as abandoned; a machine is not live", () => {
    const late = new CallBuilder("CA2")
      .start()
      .add("state.transition", { from: null, to: "greeting" }, 2_500);
    expect(summarizeCall("CA2", late.events, DEFAULT_QA_CONFIG, { score: 0, outcome: "x" }).abandoned).toBe(
      true,
    );
    const silent = new CallBuilder("CA3").start().end("caller_hangup");
    expect(summarizeCall("CA3", silent.events, DEFAULT_QA_CONFIG, { score: 0, outcome: "x" }).abandoned).toBe(
      true,
    );
    const machine = new CallBuilder("CA4").start().amd("machine_end_beep").end("close");
    expect(summarizeCall("CA4", machine.events, DEFAULT_QA_CONFIG, { score: 0, outcome: "x" })).toMatchObject(
      {
        liveAnswered: false,
        abandoned: false,
      },
    );
  });
});

describe("worstAbandonWindow", () => {
  it("finds the worst rolling 24 h window, not the average", () => {
    const calls = [
      ...Array.from({ length: 40 }, (_, i) => summary(i)),
      summary(100, { abandoned: true }),
      summary(101, { abandoned: true }),
    ];
    const w = worstAbandonWindow(calls);
    expect(w).toMatchObject({ abandoned: 2, liveAnswered: 2, rate: 1 });
  });

  it("ignores calls that were not live-answered", () => {
    expect(worstAbandonWindow([summary(1, { liveAnswered: false, abandoned: false })])).toBeNull();
  });
});

describe("rollupCampaign", () => {
  it("reports booking, opt-out and abandoned rates per live-answered call and flags a breach of 3%", () => {
    const calls = [
      summary(0, { outcome: "booked", score: 100 }),
      summary(1, { outcome: "opt_out", score: 40 }),
      summary(2, { abandoned: true, score: 10 }),
      summary(3, { liveAnswered: false, outcome: "voicemail" }),
    ];
    const r = rollupCampaign("spring", calls);
    expect(r).toMatchObject({
      calls: 4,
      liveAnswered: 3,
      booked: 1,
      optOuts: 1,
      abandoned: 1,
      ofcomBreach: true,
    });
    expect(r.bookingRate).toBeCloseTo(1 / 3);
    expect(r.worstCalls.map((c) => c.callSid)).toEqual(["CA2", "CA1", "CA3", "CA0"]);
  });

  it("lists calls that left the caller unanswered first, whatever their score, and says why", () => {
    const calls = [
      summary(0, { score: 10 }),
      summary(1, { score: 59, unansweredTurns: 1, firstUnansweredMs: 4_600 }),
      summary(2, { score: 40, unansweredTurns: 3, firstUnansweredMs: 65_000 }),
      summary(3, { score: 100 }),
    ];
    const r = rollupCampaign("spring", calls);
    expect(r.worstCalls.map((c) => [c.callSid, c.reason])).toEqual([
      ["CA2", "3 caller turns unanswered, first at 1:05.0"],
      ["CA1", "1 caller turn unanswered, first at 0:04.6"],
      ["CA0", ""],
      ["CA3", ""],
    ]);
  });

  it("carries the deaf call's unanswered turn into its summary", () => {
    const events = deafCall("CA9").events;
    const s = summarizeCall("CA9", events, DEFAULT_QA_CONFIG, scoreCall(events, DEFAULT_QA_CONFIG));
    expect(s).toMatchObject({
      unansweredTurns: 1,
      firstUnansweredMs: 4_600,
      outcome: "no_outcome",
      score: 50,
    });
  });

  it("stays within Ofcom's limit at 1 abandoned call in 40 within 24 h", () => {
    const calls = Array.from({ length: 40 }, (_, i) =>
      summary(i, { startedAtMs: IN_WINDOW_MS + i * 60_000, abandoned: i === 5 }),
    );
    const r = rollupCampaign("spring", calls);
    expect(r.worstWindow?.rate).toBeCloseTo(1 / 40);
    expect(r.ofcomBreach).toBe(false);
  });

  it("groups by campaign, busiest first, with a latency distribution", () => {
    const rs = rollupCampaigns([
      summary(1),
      summary(2),
      summary(3, { campaignId: "autumn", turnTotalsMs: [1_700, 500] }),
    ]);
    expect(rs.map((r) => [r.campaignId, r.calls])).toEqual([
      ["spring", 2],
      ["autumn", 1],
    ]);
    expect(rs[1]?.latency).toMatchObject({ turns: 2, p50Ms: 500, p95Ms: 1_700 });
  });
});

describe("latencyHistogram", () => {
  it("puts each value in [from, to) and the rest in the open last bucket", () => {
    const h = latencyHistogram([0, 399, 400, 5_000], [400, 1_000]);
    expect(h).toEqual([
      { fromMs: 0, toMs: 400, count: 2 },
      { fromMs: 400, toMs: 1_000, count: 1 },
      { fromMs: 1_000, toMs: null, count: 1 },
    ]);
  });
});
