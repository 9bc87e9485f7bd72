import { describe, expect, it } from "vitest";
import { createBargeInDetector } from "../../src/audio/barge-in";
import type { VadSnapshot } from "../../src/audio/vad";
import { DEFAULT_VAD_CONFIG } from "../../src/audio/vad-config";
import { loadFixtures, runVad, withNoise } from "./helpers";

const fixtures = loadFixtures();
const snap = (over: Partial<VadSnapshot>): VadSnapshot => ({
  speaking: true,
  onsetMs: 1000,
  voicedMs: 400,
  lastSpeechMs: 1500,
  levelDbfs: -20,
  frameIsSpeech: true,
  ...over,
});

describe("barge-in", () => {
  it.each(fixtures.filter((f) => f.kind === "speech").map((f) => [f.name, f] as const))(
    "interrupts the agent on %s, clean and at 20 dB SNR, once, after the backchannel threshold",
    async (_n, f) => {
      for (const snr of [null, 20]) {
        const { decisions } = await runVad(withNoise(f.mulaw, snr), "webrtc");
        expect(decisions).toHaveLength(1);
        const d = decisions[0];
        expect(d?.reactionMs).toBeGreaterThan(DEFAULT_VAD_CONFIG.vad.backchannelMaxMs);
        expect(d?.atMs).toBeLessThan(f.offsetMs);
      }
    },
  );

  it.each(fixtures.filter((f) => f.kind === "backchannel").map((f) => [f.name, f] as const))(
    "lets the agent finish over the backchannel %s (clean and 20 dB SNR)",
    async (_n, f) => {
      for (const detector of ["webrtc", "energy"] as const) {
        for (const snr of [null, 20])
          expect((await runVad(withNoise(f.mulaw, snr), detector)).decisions).toEqual([]);
      }
    },
  );

  it("decides only while the agent speaks, when enabled, and once per speech run", () => {
    const d = createBargeInDetector(DEFAULT_VAD_CONFIG.vad);
    expect(d.update(snap({}), 1500, false)).toBeNull();
    expect(d.update(snap({}), 1460, true)).toMatchObject({ type: "barge_in", reactionMs: 460 });
    expect(d.update(snap({}), 1480, true)).toBeNull();
    const off = createBargeInDetector({ ...DEFAULT_VAD_CONFIG.vad, bargeIn: false });
    expect(off.update(snap({}), 2000, true)).toBeNull();
  });

  it("reports the caller audio between onset and decision", () => {
    const d = createBargeInDetector(DEFAULT_VAD_CONFIG.vad);
    expect(d.update(snap({}), 1440, true)).toBeNull();
    expect(d.update(snap({ frameIsSpeech: false }), 1500, true)).toBeNull();
    expect(d.update(snap({}), 1520, true)).toEqual({
      type: "barge_in",
      onsetMs: 1000,
      atMs: 1520,
      reactionMs: 520,
    });
    expect(d.update(snap({}), 1540, true)).toBeNull();
    d.update(snap({ onsetMs: null, speaking: false }), 2500, true);
    expect(d.update(snap({ onsetMs: 3000 }), 3500, true)).toMatchObject({ onsetMs: 3000, reactionMs: 500 });
  });
});
