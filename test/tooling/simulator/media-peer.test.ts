import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../../src/audio/mulaw";
import { buildTurnAudio, speechLikePcm } from "../../../src/tooling/simulator/caller-audio";
import { fillLatencies, runConversation } from "../../../src/tooling/simulator/conversation";
import { MediaPeer } from "../../../src/tooling/simulator/media-peer";
import { buildReport, formatReport } from "../../../src/tooling/simulator/report";
import { parseCallScript } from "../../../src/tooling/simulator/script";

type Sent = {
  event: string;
  sequenceNumber?: string;
  mark?: { name: string };
  media?: { timestamp: string };
};

function harness(options: { playbackSpeed?: number; framesPerTick?: number } = {}) {
  const sent: Sent[] = [];
  const peer = new MediaPeer(
    { send: (t) => sent.push(JSON.parse(t) as Sent), close: () => undefined },
    { callSid: `CA${"a".repeat(32)}`, accountSid: `AC${"0".repeat(32)}`, ...options },
  );
  const agentMedia = (ms: number) =>
    peer.receive(
      JSON.stringify({ event: "media", media: { payload: bytesToBase64(new Uint8Array(ms * 8)) } }),
    );
  const agentMark = (name: string) => peer.receive(JSON.stringify({ event: "mark", mark: { name } }));
  return { peer, sent, agentMedia, agentMark };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("MediaPeer (Twilio's side of the stream)", () => {
  it("sends connected then start with the TwiML parameters, and string sequence numbers from 1", () => {
    const { peer, sent } = harness();
    peer.start({ token: "t", flow: "outbound-booking" });
    peer.dtmf("5");
    expect(sent.map((s) => s.event)).toEqual(["connected", "start", "dtmf"]);
    expect(sent.slice(1).map((s) => s.sequenceNumber)).toEqual(["1", "2"]);
    peer.dispose();
  });

  it("echoes a mark only after the audio before it has played (real time)", async () => {
    const { peer, sent, agentMedia, agentMark } = harness({ playbackSpeed: 1 });
    peer.start({});
    agentMedia(200);
    agentMark("u1:0");
    await sleep(120);
    expect(sent.some((s) => s.event === "mark")).toBe(false);
    expect(peer.agentPlaying).toBe(true);
    await peer.waitFor(() => !peer.agentPlaying, 1_000);
    expect(sent.filter((s) => s.event === "mark").map((s) => s.mark?.name)).toEqual(["u1:0"]);
    expect(peer.chunks[0]?.cut).toBe(false);
    peer.dispose();
  });

  it("on clear echoes every pending mark at once and records them as cut", () => {
    const { peer, sent, agentMedia, agentMark } = harness({ playbackSpeed: 1 });
    peer.start({});
    agentMedia(500);
    agentMark("u1:0");
    agentMedia(500);
    agentMark("u1:1");
    peer.receive(JSON.stringify({ event: "clear", streamSid: peer.streamSid }));
    expect(sent.filter((s) => s.event === "mark").map((s) => s.mark?.name)).toEqual(["u1:0", "u1:1"]);
    expect(peer.clears).toBe(1);
    expect(peer.chunks.every((c) => c.cut)).toBe(true);
    const report = buildReport(peer, [], { callSid: "CA1", flow: "f", target: "t" });
    expect(report.agentLines).toEqual([
      expect.objectContaining({ utteranceId: "u1", audioMs: 1000, cutChunks: 2, heardMs: 0 }),
    ]);
    peer.dispose();
  });

  it("paces caller audio at 20 ms per frame in real time, with media timestamps in steps of 20", async () => {
    const { peer, sent } = harness({ framesPerTick: 1 });
    peer.start({});
    const t0 = Date.now();
    await peer.sendAudio(new Uint8Array(160 * 10));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(170);
    const media = sent.filter((s) => s.event === "media");
    expect(media.map((m) => m.media?.timestamp)).toEqual([
      "0",
      "20",
      "40",
      "60",
      "80",
      "100",
      "120",
      "140",
      "160",
      "180",
    ]);
    peer.dispose();
  });
});

describe("caller audio", () => {
  it("renders text as speech-like audio of 65 ms per character, with noise at the requested SNR", () => {
    expect(speechLikePcm("hello there").length).toBe(11 * 65 * 8);
    const clean = buildTurnAudio({ text: "yes speaking", trailingSilenceMs: 400 });
    expect(clean.speechBytes).toBe(12 * 65 * 8);
    expect(clean.audio.length % 160).toBe(0);
    const noisy = buildTurnAudio({ text: "yes speaking", trailingSilenceMs: 400, noiseSnrDb: 10 });
    const tail = (a: Uint8Array) => a.subarray(clean.speechBytes + 160);
    expect(tail(clean.audio).every((b) => b === 0xff)).toBe(true);
    expect(tail(noisy.audio).some((b) => b !== 0xff)).toBe(true);
  });
});

describe("conversation runner", () => {
  it("waits for the agent, speaks, keys DTMF, hangs up, and measures the reply latency", async () => {
    const { peer, sent, agentMedia, agentMark } = harness({ playbackSpeed: 20, framesPerTick: 8 });
    peer.start({});
    agentMedia(400);
    agentMark("u1:0");
    const script = parseCallScript({
      flow: "outbound-booking",
      turns: [
        { say: "yes", dtmf: "1", trailingSilenceMs: 200 },
        { silenceMs: 50, hangup: true, waitForAgent: false },
      ],
    });
    // The agent answers 30 ms after the caller's speech ends.
    const answered = peer
      .waitFor(() => sent.some((s) => s.event === "dtmf"), 5_000)
      .then(async () => {
        await sleep(30);
        agentMedia(200);
        agentMark("u2:0");
      });
    const turns = await runConversation(
      peer,
      script.turns,
      { fixture: () => new Uint8Array(0), amd: async () => undefined },
      { agentSettleMs: 40, agentWaitTimeoutMs: 2_000, endWaitMs: 100, synthesizeSpeech: true },
    );
    await answered;
    fillLatencies(peer, turns);
    expect(turns[0]?.agentSilent).toBe(false);
    expect(turns[0]?.latencyMs).toBeGreaterThanOrEqual(20);
    expect(sent.at(-1)?.event).toBe("stop");
    expect(peer.closed).not.toBeNull();
    const text = formatReport(
      buildReport(peer, turns, { callSid: "CA1", flow: "outbound-booking", target: "t" }),
    );
    expect(text).toContain('CALLER "yes"');
    expect(text).toContain("CALLER keyed 1");
    expect(text).toMatch(/turn {2}1 yes\s+█+\s+\d+ ms/);
  });

  it("refuses synthetic speech against a deployed app", async () => {
    const { peer } = harness();
    peer.start({});
    const script = parseCallScript({ flow: "f", turns: [{ say: "hello", waitForAgent: false }] });
    await expect(
      runConversation(
        peer,
        script.turns,
        { fixture: () => new Uint8Array(0), amd: async () => undefined },
        { agentSettleMs: 10, agentWaitTimeoutMs: 10, endWaitMs: 0, synthesizeSpeech: false },
      ),
    ).rejects.toThrow(/needs a recorded fixture/);
    peer.dispose();
  });
});
