import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createTurnTimer,
  overheadMs,
  percentile,
  summarize,
  type TurnLatencyRecord,
  turnKind,
  turnSegments,
} from "../../src/turn/latency";

function liveTurn(offsetMs = 0): TurnLatencyRecord {
  const t = createTurnTimer(1000 + offsetMs);
  t.mark("speechEnd", 2000 + offsetMs);
  t.mark("sttFinal", 2300 + offsetMs);
  t.mark("endpoint", 2450 + offsetMs);
  t.mark("llmFirstToken", 2800 + offsetMs);
  t.mark("ttsFirstByte", 2950 + offsetMs);
  t.mark("firstFrameSent", 2953 + offsetMs);
  t.mark("firstFramePlayed", 3040 + offsetMs);
  return t.record();
}

describe("createTurnTimer", () => {
  it("stamps each point once: the first frame is the first one sent", () => {
    const t = createTurnTimer(0);
    t.mark("firstFrameSent", 100);
    t.mark("firstFrameSent", 120);
    t.mark("fastPath", 50);
    t.mark("fastPath", 60);
    t.mark("cacheHit", 70);
    expect(t.record()).toEqual({
      startMs: 0,
      firstFrameSentMs: 100,
      fastPath: true,
      fastPathMs: 50,
      cacheHit: true,
      cacheReadyMs: 70,
    });
  });

  it("returns snapshots that later marks do not change", () => {
    const t = createTurnTimer(0);
    const before = t.record();
    t.mark("endpoint", 10);
    expect(before.endpointMs).toBeUndefined();
  });
});

describe("turnSegments", () => {
  it("splits a live turn into endpointing, LLM, TTS and send", () => {
    expect(turnSegments(liveTurn())).toEqual({
      endpointing: 450,
      decision: 350,
      audio: 150,
      send: 3,
      sttFinal: 300,
      playout: 87,
      voiceToVoiceMs: 953,
      voiceToPlayedMs: 1040,
    });
  });

  it("uses the fast-path decision and cache-ready marks when providers are skipped", () => {
    const t = createTurnTimer(0);
    t.mark("speechEnd", 100);
    t.mark("endpoint", 600);
    t.mark("fastPath", 601);
    t.mark("cacheHit", 603);
    t.mark("firstFrameSent", 604);
    const r = t.record();
    expect(turnKind(r)).toBe("fast_path_cached");
    expect(turnSegments(r)).toMatchObject({
      endpointing: 500,
      decision: 1,
      audio: 2,
      send: 1,
      voiceToVoiceMs: 504,
    });
  });

  it("counts speculative work finished before the endpoint as zero, not negative", () => {
    const r: TurnLatencyRecord = {
      startMs: 0,
      speechEndMs: 100,
      llmFirstTokenMs: 350,
      endpointMs: 600,
      ttsFirstByteMs: 700,
      firstFrameSentMs: 701,
    };
    expect(turnSegments(r)).toMatchObject({
      endpointing: 500,
      decision: 0,
      audio: 100,
      send: 1,
      voiceToVoiceMs: 601,
    });
  });

  it("leaves out segments whose marks are missing", () => {
    const r: TurnLatencyRecord = { startMs: 0, speechEndMs: 10, endpointMs: 400 };
    expect(turnSegments(r)).toEqual({ endpointing: 390 });
  });

  it("has segments summing to voice-to-voice for any ordering of marks", () => {
    const t = fc.integer({ min: 0, max: 5000 });
    fc.assert(
      fc.property(t, t, t, t, t, fc.boolean(), fc.boolean(), (se, ep, dec, aud, sent, fast, cached) => {
        const r: TurnLatencyRecord = {
          startMs: 0,
          speechEndMs: se,
          endpointMs: ep,
          ...(fast ? { fastPath: true, fastPathMs: dec } : { llmFirstTokenMs: dec }),
          ...(cached ? { cacheHit: true, cacheReadyMs: aud } : { ttsFirstByteMs: aud }),
          firstFrameSentMs: Math.max(sent, se, ep, dec, aud),
        };
        const s = turnSegments(r);
        const sum = (s.endpointing ?? -1) + (s.decision ?? -1) + (s.audio ?? -1) + (s.send ?? -1);
        expect(sum).toBe(s.voiceToVoiceMs);
        for (const v of [s.endpointing, s.decision, s.audio, s.send]) expect(v).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe("percentile (nearest rank)", () => {
  it("matches hand-computed nearest-rank values", () => {
    const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(ten, 50)).toBe(50);
    expect(percentile(ten, 95)).toBe(100);
    expect(percentile(ten, 90)).toBe(90);
    expect(percentile(ten, 10)).toBe(10);
    expect(percentile([5, 1, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it("rejects p outside (0, 100]", () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("returns an observed value with at least p% of values at or below it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (values, p) => {
          const v = percentile(values, p);
          expect(values).toContain(v);
          const atOrBelow = values.filter((x) => v !== null && x <= v).length;
          const below = values.filter((x) => v !== null && x < v).length;
          expect(atOrBelow / values.length).toBeGreaterThanOrEqual(p / 100);
          expect(below / values.length).toBeLessThan(p / 100);
        },
      ),
    );
  });
});

describe("summarize and overheadMs", () => {
  it("summarises voice-to-voice and each segment with p50/p95", () => {
    const records = Array.from({ length: 20 }, (_, i) => liveTurn(i * 10_000 + 0));
    const slow = liveTurn(500_000);
    slow.firstFrameSentMs = (slow.firstFrameSentMs ?? 0) + 1000;
    const s = summarize([...records, slow, { startMs: 0 }]);
    expect(s.count).toBe(21);
    expect(s.p50).toBe(953);
    expect(s.p95).toBe(953);
    expect(s.bySegment.endpointing).toEqual({ count: 21, p50: 450, p95: 450 });
    expect(s.bySegment.send.p95).toBe(3);
    expect(summarize([]).p50).toBeNull();
  });

  it("subtracts provider time from voice-to-voice to give our overhead", () => {
    expect(overheadMs(liveTurn(), 450 + 350 + 150)).toBe(3);
    expect(overheadMs({ startMs: 0 }, 100)).toBeUndefined();
  });
});
