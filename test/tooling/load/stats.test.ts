import { describe, expect, it } from "vitest";
import {
  type AgentMessage,
  analyzeAgentFrames,
  distribution,
  percentile,
  turnOverheadMs,
  turnTimes,
} from "../../../src/tooling/load/stats";

/** `count` 20 ms frames of one chunk arriving every `stepMs` from `startMs`, then its mark. */
function chunk(id: string, index: number, startMs: number, stepMs: number, count = 5): AgentMessage[] {
  const out: AgentMessage[] = [];
  for (let i = 0; i < count; i++) out.push({ kind: "media", atMs: startMs + i * stepMs, bytes: 160 });
  out.push({ kind: "mark", atMs: startMs + (count - 1) * stepMs, name: `${id}:${index}` });
  return out;
}

describe("percentile", () => {
  it("uses the nearest rank", () => {
    const v = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(v, 50)).toBe(5);
    expect(percentile(v, 95)).toBe(10);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([], 50)).toBeNull();
  });
  it("summarises a sample", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(distribution(v)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});

describe("turnOverheadMs", () => {
  it("subtracts endpointing and emulator delays", () => {
    expect(turnOverheadMs(530, 500)).toBe(30);
    expect(turnOverheadMs(900, 600, 250)).toBe(50);
  });
});

describe("analyzeAgentFrames", () => {
  it("counts no fault when the agent sends faster than real time", () => {
    const msgs = [...chunk("u1", 0, 0, 1), ...chunk("u1", 1, 5, 1), ...chunk("u1", 2, 10, 1, 3)];
    expect(analyzeAgentFrames(msgs)).toMatchObject({
      utterances: 1,
      frames: 13,
      lateFrames: 0,
      droppedFrames: 0,
      rawGaps: 0,
    });
  });

  it("does not count an arrival gap the playback buffer covers", () => {
    // 10 frames = 200 ms buffered at once; the next chunk 150 ms later still finds audio playing.
    const msgs = [...chunk("u1", 0, 0, 0, 10), ...chunk("u1", 1, 150, 0)];
    const r = analyzeAgentFrames(msgs, { framesPerChunk: 10 });
    expect(r.rawGaps).toBe(1);
    expect(r.lateFrames).toBe(0);
  });

  it("counts a frame late when the buffer ran dry for more than 40 ms", () => {
    // 5 frames = 100 ms buffered; the next arrives at 200 ms: 100 ms of silence heard.
    const msgs = [...chunk("u1", 0, 0, 0), ...chunk("u1", 1, 200, 20)];
    const r = analyzeAgentFrames(msgs);
    expect(r.lateFrames).toBe(1);
    expect(r.worstUnderrunMs).toBe(100);
  });

  it("does not count the pause between two utterances or after a clear", () => {
    const msgs = [
      ...chunk("u1", 0, 0, 0),
      ...chunk("u2", 0, 5_000, 0),
      { kind: "clear", atMs: 5_010 } as const,
      ...chunk("u3", 0, 9_000, 0),
    ];
    const r = analyzeAgentFrames(msgs);
    expect(r).toMatchObject({ utterances: 3, lateFrames: 0, rawGaps: 0 });
  });

  it("counts frames missing from a non-final chunk and skipped mark indices", () => {
    const msgs = [...chunk("u1", 0, 0, 0, 3), ...chunk("u1", 1, 1, 0), ...chunk("u1", 3, 2, 0, 2)];
    expect(analyzeAgentFrames(msgs).droppedFrames).toBe(2 + 5);
  });

  it("allows the utterance's last chunk to be short", () => {
    expect(analyzeAgentFrames([...chunk("u1", 0, 0, 0), ...chunk("u1", 1, 1, 0, 1)]).droppedFrames).toBe(0);
  });

  it("counts a media message carrying a whole chunk as that many frames", () => {
    const whole = (index: number, atMs: number, bytes: number): AgentMessage[] => [
      { kind: "media", atMs, bytes },
      { kind: "mark", atMs, name: `u1:${index}` },
    ];
    const msgs = [...whole(0, 0, 800), ...whole(1, 50, 800), ...whole(2, 100, 320)];
    expect(analyzeAgentFrames(msgs)).toMatchObject({ frames: 12, droppedFrames: 0, lateFrames: 0 });
    const short = [...whole(0, 0, 480), ...whole(1, 50, 800)];
    expect(analyzeAgentFrames(short).droppedFrames).toBe(2);
  });
});

describe("turnTimes", () => {
  it("measures from the last speech_final sent inside the turn's window", () => {
    const turns = [
      { speechEndAtMs: 1_000, agentReplyAtMs: 1_530 },
      { speechEndAtMs: 5_000, agentReplyAtMs: null },
      { speechEndAtMs: 8_000, agentReplyAtMs: 8_520 },
    ];
    const finals = [
      { sentAtMs: 900, speechFinal: true }, // an earlier turn's
      { sentAtMs: 1_300, speechFinal: false }, // a Finalize answer: not the end of the turn
      { sentAtMs: 1_510, speechFinal: true },
      { sentAtMs: 9_000, speechFinal: true }, // after the reply
    ];
    const sinceFinal = turnTimes(turns, finals).map((t) =>
      t === null ? null : t.agentReplyAtMs - t.finalSentAtMs,
    );
    expect(sinceFinal).toEqual([20, null, null]);
  });
});
