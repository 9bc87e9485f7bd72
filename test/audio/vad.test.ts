import { describe, expect, it } from "vitest";
import { mulawToPcm, pcmToMulaw } from "../../src/audio/mulaw";
import { concatPcm, silence, whiteNoise } from "../../src/audio/signals";
import { createEnergyClassifier, createVad } from "../../src/audio/vad";
import { DEFAULT_VAD_CONFIG } from "../../src/audio/vad-config";
import { loadFixtures, runVad, webRtcRuntime, withNoise } from "./helpers";

const speech = loadFixtures().filter((f) => f.kind === "speech");

describe.each(["webrtc", "energy"] as const)("VAD (%s classifier) on espeak-ng speech", (detector) => {
  it.each(speech.map((f) => [f.name, f] as const))(
    "detects clean %s near its onset and ends after the max pause",
    async (_n, f) => {
      const { events } = await runVad(f.mulaw, detector);
      const start = events.find((e) => e.type === "speech_start");
      const end = events.findLast((e) => e.type === "speech_end");
      expect(start?.onsetMs).toBeGreaterThanOrEqual(f.onsetMs - 20);
      expect(start?.onsetMs).toBeLessThanOrEqual(f.onsetMs + 100);
      expect((start?.atMs ?? 0) - (start?.onsetMs ?? 0)).toBeGreaterThanOrEqual(200);
      expect(end?.type === "speech_end" && end.atMs - end.lastSpeechMs).toBeGreaterThanOrEqual(500);
      expect(end?.type === "speech_end" && Math.abs(end.lastSpeechMs - f.offsetMs)).toBeLessThanOrEqual(200);
    },
  );

  it.each([-50, -40, -30, -20])(
    "never reports speech in 10 s of white noise at %d dBFS, from the start or after silence",
    async (level) => {
      for (const pcm of [
        whiteNoise(10_000, level, 11),
        concatPcm([silence(1000), whiteNoise(10_000, level, 12)]),
      ]) {
        const { events } = await runVad(pcmToMulaw(pcm), detector);
        expect(events).toEqual([]);
      }
    },
  );

  it("ignores speech below the -42 dBFS noise gate", async () => {
    const f = speech[0];
    if (!f) throw new Error("no fixture");
    const attenuated = pcmToMulaw(Int16Array.from(mulawToPcm(f.mulaw), (x) => x / 100)); // -40 dB: peaks near -46 dBFS
    expect((await runVad(f.mulaw, detector)).events.length).toBeGreaterThan(0);
    const { events } = await runVad(attenuated, detector);
    expect(events).toEqual([]);
  });
});

describe("VAD with the WebRTC classifier in noise", () => {
  it.each(speech.map((f) => [f.name, f] as const))(
    "detects %s at 10 dB SNR before the speech is over",
    async (_n, f) => {
      const { events } = await runVad(withNoise(f.mulaw, 10), "webrtc");
      const start = events.find((e) => e.type === "speech_start");
      expect(start).toBeDefined();
      expect(start?.atMs).toBeLessThan(f.offsetMs);
      expect(start?.atMs).toBeGreaterThan(f.onsetMs);
    },
  );

  it("rejects frames that are not 10, 20 or 30 ms and cannot be used after dispose", async () => {
    const c = (await webRtcRuntime()).createClassifier(2);
    expect(() => c.isSpeech(new Int16Array(100))).toThrow(RangeError);
    expect(c.isSpeech(new Int16Array(160))).toBe(false);
    c.reset();
    c.dispose?.();
    expect(() => c.isSpeech(new Int16Array(160))).toThrow();
  });
});

describe("VAD timing rules", () => {
  // A classifier scripted per frame isolates the timing logic from signal processing.
  const scripted = (pattern: string) => {
    let i = 0;
    return { isSpeech: () => pattern[i++] === "1", reset: () => {} };
  };
  const loud = pcmToMulaw(concatPcm([whiteNoise(20, -20, 1)]));
  const run = (pattern: string, minModulationDb = 0) => {
    const vad = createVad(DEFAULT_VAD_CONFIG.vad, { classifier: scripted(pattern), minModulationDb });
    return [...pattern].flatMap((_c, i) => vad.push(loud, i * 20));
  };

  it("needs min speech (200 ms = 10 frames) before speech_start, and 500 ms of pause for speech_end", () => {
    expect(run("111111111")).toEqual([]);
    expect(run("1111111111")).toEqual([{ type: "speech_start", onsetMs: 0, atMs: 200 }]);
    const ev = run(`1111111111${"0".repeat(25)}`);
    expect(ev.at(-1)).toEqual({ type: "speech_end", onsetMs: 0, lastSpeechMs: 200, atMs: 700 });
    expect(run(`1111111111${"0".repeat(24)}`).length).toBe(1);
  });

  it("tolerates short gaps while confirming but restarts after a longer one", () => {
    expect(run("11111000111110")[0]).toMatchObject({ type: "speech_start", onsetMs: 0 });
    expect(run("11111000011111")).toEqual([]);
  });

  it("needs level modulation by default: a steady level is not speech", () => {
    expect(run("1".repeat(40), 6)).toEqual([]);
  });

  it("lets the energy classifier learn a noise floor", () => {
    const c = createEnergyClassifier();
    const noise = whiteNoise(2000, -30, 5);
    const verdicts = [];
    for (let o = 0; o + 160 <= noise.length; o += 160) verdicts.push(c.isSpeech(noise.subarray(o, o + 160)));
    expect(verdicts.filter(Boolean).length).toBeLessThan(5);
  });
});
