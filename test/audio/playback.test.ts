import { describe, expect, it } from "vitest";
import { PlaybackTracker, wordPrefix } from "../../src/audio/playback";

const TEXT = "Thanks for calling, I can book you in on Tuesday at ten.";

function sendUtterance(t: PlaybackTracker, id: string, chunks: number, nowMs: number, text = TEXT) {
  t.setText(id, text);
  for (let i = 0; i < chunks; i++)
    t.recordSent({ utteranceId: id, markName: `${id}:${i}`, byteCount: 800 }, nowMs);
  t.endUtterance(id);
}

describe("PlaybackTracker", () => {
  it("counts marks echoed without a clear as heard, and stops playing after the last", () => {
    const t = new PlaybackTracker();
    sendUtterance(t, "u1", 3, 0);
    expect(t.isPlaying()).toBe(true);
    expect(t.onMark("u1:0", 100)).toEqual({ status: "heard", utteranceId: "u1" });
    expect(t.heardMs("u1")).toBe(100);
    t.onMark("u1:1", 200);
    t.onMark("u1:2", 300);
    expect(t.isPlaying()).toBe(false);
    expect(t.summary("u1")).toMatchObject({
      sentMs: 300,
      heardMs: 300,
      cut: false,
      ended: true,
      settled: true,
    });
    expect(t.heardText("u1")).toBe(TEXT);
  });

  it("reads marks echoed after a clear as cut, estimates the playing chunk, and keeps the heard prefix", () => {
    const t = new PlaybackTracker();
    sendUtterance(t, "u1", 10, 0); // 1 s of audio
    t.onMark("u1:0", 100);
    t.onMark("u1:1", 200);
    t.onMark("u1:2", 300);
    expect(t.clear(350)).toEqual(["u1"]);
    expect(t.isPlaying()).toBe(false);
    expect(t.onMark("u1:3", 360)).toEqual({ status: "cut", utteranceId: "u1" });
    expect(t.onMark("u1:9", 361).status).toBe("cut");
    expect(t.summary("u1")).toMatchObject({ heardMs: 300, cutPartialMs: 50, cut: true, settled: true });
    expect(t.heardMs("u1")).toBe(350);
    const heard = t.heardText("u1");
    expect(TEXT.startsWith(heard)).toBe(true);
    expect(heard).toBe("Thanks for calling,"); // 35% of 56 chars = 20 -> back to a word boundary
  });

  it("uses TTS text spans when every heard chunk has one", () => {
    const t = new PlaybackTracker();
    t.setText("u2", TEXT);
    t.recordSent({ utteranceId: "u2", markName: "a", byteCount: 1600, textSpan: { start: 0, end: 7 } }, 0);
    t.recordSent({ utteranceId: "u2", markName: "b", byteCount: 1600, textSpan: { start: 7, end: 30 } }, 0);
    t.onMark("a", 200);
    t.clear(210);
    expect(t.heardText("u2")).toBe("Thanks");
  });

  it("treats marks sent after a clear normally and an earlier missed echo as played", () => {
    const t = new PlaybackTracker();
    sendUtterance(t, "u1", 2, 0);
    t.clear(10);
    sendUtterance(t, "u2", 3, 20);
    expect(t.onMark("u1:0", 20).status).toBe("cut");
    expect(t.onMark("u2:1", 220).status).toBe("heard");
    expect(t.summary("u2")?.heardMs).toBe(200);
    expect(t.onMark("nope", 0)).toEqual({ status: "unknown", utteranceId: undefined });
    expect(() => t.recordSent({ utteranceId: "u3", markName: "u2:0", byteCount: 160 }, 0)).toThrow();
    expect(t.heardMs("missing")).toBe(0);
    expect(t.heardText("missing")).toBe("");
  });

  it("cuts text back to whole words", () => {
    expect(wordPrefix("hello there world", 8)).toBe("hello");
    expect(wordPrefix("hello there world", 11)).toBe("hello there");
    expect(wordPrefix("hello", 3)).toBe("");
    expect(wordPrefix("hello", 99)).toBe("hello");
  });
});
