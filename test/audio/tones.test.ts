import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mulawToPcm } from "../../src/audio/mulaw";
import {
  addNoiseAtSnr,
  cadence,
  concatPcm,
  pcmToMulawFrames,
  silence,
  tone,
  tones,
  UK_RINGBACK,
  US_RINGBACK,
  whiteNoise,
} from "../../src/audio/signals";
import { createToneDetector, type ToneEvent } from "../../src/audio/tones";
import { loadFixtures } from "./helpers";

function detect(pcm: Int16Array): ToneEvent[] {
  const d = createToneDetector();
  return pcmToMulawFrames(pcm).flatMap((f, i) => d.push(f, i * 20));
}

describe("tone detector", () => {
  it("reports a beep of any frequency 400-2000 Hz and length 0.3-1 s once, within 60 ms of its end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 400, max: 2000 }),
        fc.integer({ min: 15, max: 50 }).map((n) => n * 20),
        fc.constantFrom(null, 15, 10),
        fc.integer({ min: -35, max: -10 }),
        (freq, ms, snr, level) => {
          const clean = concatPcm([silence(500), tone(freq, ms, level), silence(600)]);
          const events = detect(snr === null ? clean : addNoiseAtSnr(clean, snr, freq));
          expect(events).toHaveLength(1);
          const beep = events[0];
          if (beep?.type !== "beep") throw new Error("expected a beep");
          expect(Math.abs(beep.freqHz - freq)).toBeLessThanOrEqual(10);
          expect(beep.atMs).toBeGreaterThanOrEqual(500 + ms);
          expect(beep.atMs).toBeLessThanOrEqual(500 + ms + 60);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("ignores blips and long tones that are not beeps", () => {
    expect(detect(concatPcm([silence(300), tone(1000, 120), silence(300)]))).toEqual([]);
    expect(detect(concatPcm([silence(300), tone(1000, 2500), silence(300)]))).toEqual([]);
    expect(detect(concatPcm([silence(300), tone(200, 500), tone(2600, 500), silence(300)]))).toEqual([]);
  });

  it("reports UK ringback per cadence cycle and never a beep, clean and at 10 dB SNR", () => {
    for (const pcm of [cadence(UK_RINGBACK, 3), addNoiseAtSnr(cadence(UK_RINGBACK, 3), 10)]) {
      const events = detect(pcm);
      expect(events.map((e) => e.type)).toEqual(["ringback", "ringback", "ringback"]);
      expect(events.every((e) => e.type === "ringback" && e.region === "uk")).toBe(true);
    }
  });

  it("reports US ringback 1.5 s into each 2 s burst and never a beep", () => {
    for (const pcm of [cadence(US_RINGBACK, 2), addNoiseAtSnr(cadence(US_RINGBACK, 2), 10)]) {
      expect(detect(pcm)).toEqual([
        { type: "ringback", region: "us", atMs: 1500 },
        { type: "ringback", region: "us", atMs: 7500 },
      ]);
    }
  });

  it("does not take a single ringback burst or a dual tone for a beep", () => {
    expect(detect(concatPcm([silence(300), tones([400, 450], 400), silence(600)]))).toEqual([]);
    expect(detect(concatPcm([silence(300), tones([440, 480], 600), silence(600)]))).toEqual([]);
  });

  it("stays silent on speech, speech in noise and white noise", () => {
    for (const f of loadFixtures()) {
      const pcm = mulawToPcm(f.mulaw);
      expect(detect(pcm)).toEqual([]);
      expect(detect(addNoiseAtSnr(pcm, 10))).toEqual([]);
    }
    expect(detect(whiteNoise(5000, -25, 9))).toEqual([]);
  });

  it("finds the beep after a voicemail greeting", () => {
    const greeting = mulawToPcm(loadFixtures()[0]?.mulaw ?? new Uint8Array());
    const events = detect(concatPcm([greeting, tone(850, 500), silence(400)]));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "beep", freqHz: 850 });
  });
});
