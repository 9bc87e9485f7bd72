import { describe, expect, it } from "vitest";
import { dbfs } from "../../src/audio/mulaw";
import { addNoiseAtSnr, cadence, createRng, tone, UK_RINGBACK, whiteNoise } from "../../src/audio/signals";

describe("test signals", () => {
  it("are deterministic per seed", () => {
    expect(Array.from(whiteNoise(20, -30, 4))).toEqual(Array.from(whiteNoise(20, -30, 4)));
    expect(Array.from(whiteNoise(20, -30, 4))).not.toEqual(Array.from(whiteNoise(20, -30, 5)));
    const r = createRng(1);
    expect(r()).toBeGreaterThanOrEqual(0);
  });

  it("hit the requested levels, lengths and SNR", () => {
    expect(dbfs(whiteNoise(2000, -30))).toBeCloseTo(-30, 0);
    expect(tone(1000, 300).length).toBe(2400);
    expect(cadence(UK_RINGBACK, 2).length).toBe(2 * 3000 * 8);
    const clean = tone(1000, 1000, -20);
    const noisy = addNoiseAtSnr(clean, 10);
    const noise = Int16Array.from(noisy, (x, i) => x - (clean[i] ?? 0));
    expect(dbfs(clean) - dbfs(noise)).toBeCloseTo(10, 0);
  });
});
