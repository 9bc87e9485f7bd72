import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../../src/store/call-event";
import { ScriptedTwilioPeer, turnTimings } from "../../../src/tooling/bench/node-call-harness";

function peerWithClock() {
  const sent: Record<string, unknown>[] = [];
  let now = 1_000;
  const peer = new ScriptedTwilioPeer({
    callSid: "CA1",
    streamSid: "MZ1",
    send: (text) => sent.push(JSON.parse(text) as Record<string, unknown>),
    pace: 1,
    playbackSpeed: 1,
    nowMs: () => now,
  });
  return { peer, sent, advance: (ms: number) => (now += ms) };
}

const media = (bytes: number) =>
  JSON.stringify({
    event: "media",
    streamSid: "MZ1",
    media: { payload: Buffer.alloc(bytes).toString("base64") },
  });
const mark = (name: string) => JSON.stringify({ event: "mark", streamSid: "MZ1", mark: { name } });

describe("ScriptedTwilioPeer", () => {
  it("drops unplayed audio on clear and echoes every pending mark at once", () => {
    const { peer, sent } = peerWithClock();
    peer.deliver(media(1_600));
    peer.deliver(mark("u1:0"));
    peer.deliver(media(1_600));
    peer.deliver(mark("u1:1"));
    expect(peer.idleForMs()).toBe(0);
    expect(sent.filter((f) => f.event === "mark")).toHaveLength(0);
    peer.deliver(JSON.stringify({ event: "clear", streamSid: "MZ1" }));
    const echoed = sent.filter((f) => f.event === "mark").map((f) => (f.mark as { name: string }).name);
    expect(echoed).toEqual(["u1:0", "u1:1"]);
    expect(peer.frames.map((f) => f.event)).toEqual(["media", "mark", "media", "mark", "clear"]);
    expect(peer.playingForMs()).toBe(0);
    peer.close();
  });

  it("counts agent audio as playing from its first frame at the playback speed", () => {
    const { peer, advance } = peerWithClock();
    peer.deliver(media(8_000)); // one second of µ-law
    advance(400);
    expect(peer.playingForMs()).toBe(400);
    advance(700);
    expect(peer.playingForMs()).toBe(0);
    expect(peer.idleForMs()).toBe(100);
    peer.close();
  });
});

describe("turnTimings", () => {
  const record = {
    startMs: 0,
    speechEndMs: 0,
    sttFinalMs: 700,
    endpointMs: 700,
    fastPath: true,
    fastPathMs: 701,
    ttsFirstByteMs: 850,
    firstFrameSentMs: 851,
    firstFramePlayedMs: 860,
  };

  it("reads a record spread in the payload or nested under `record`", () => {
    const events = [
      { callSid: "CA1", atMs: 1, type: EVENT_TYPES.turnLatency, payload: { turn: 1, ...record } },
      {
        callSid: "CA1",
        atMs: 2,
        type: EVENT_TYPES.turnLatency,
        payload: { turn: 2, kind: "fast_path", record },
      },
      { callSid: "CA1", atMs: 3, type: "state.transition", payload: { to: "qualify" } },
    ];
    const timings = turnTimings(events);
    expect(timings.map((t) => [t.turn, t.kind])).toEqual([
      [1, "fast_path"],
      [2, "fast_path"],
    ]);
    expect(timings[0]?.segments).toMatchObject({ endpointing: 700, decision: 1, audio: 149, send: 1 });
  });
});
