import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  bytesToBase64,
  DBFS_FLOOR,
  dbfs,
  decodeMulawSample,
  encodeMulawSample,
  mulawDbfs,
  mulawToPcm,
  pcmToMulaw,
} from "../../src/audio/mulaw";
import { tone } from "../../src/audio/signals";

describe("G.711 µ-law", () => {
  it("decodes to the G.711 reference table values", () => {
    expect(decodeMulawSample(0xff)).toBe(0);
    expect(decodeMulawSample(0x7f)).toBe(0);
    expect(decodeMulawSample(0x00)).toBe(-32124);
    expect(decodeMulawSample(0x80)).toBe(32124);
    expect(decodeMulawSample(0x01)).toBe(-31100);
    expect(decodeMulawSample(0x10)).toBe(-15996);
    expect(decodeMulawSample(0x70)).toBe(-120);
    expect(decodeMulawSample(0x7e)).toBe(-8);
    expect(decodeMulawSample(0xf0)).toBe(120);
    expect(decodeMulawSample(0xfe)).toBe(8);
  });

  it("encodes reference samples", () => {
    expect(encodeMulawSample(0)).toBe(0xff);
    expect(encodeMulawSample(-1)).toBe(0x7f);
    expect(encodeMulawSample(32767)).toBe(0x80);
    expect(encodeMulawSample(-32768)).toBe(0x00);
    expect(encodeMulawSample(32124)).toBe(0x80);
    expect(encodeMulawSample(120)).toBe(0xf0);
    // Out-of-range input is clamped, not wrapped.
    expect(encodeMulawSample(100000)).toBe(0x80);
    expect(encodeMulawSample(-100000)).toBe(0x00);
  });

  it("re-encodes every decoded code to a code with the same value", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (code) => {
        const value = decodeMulawSample(code);
        expect(decodeMulawSample(encodeMulawSample(value))).toBe(value);
        if (code !== 0x7f) expect(encodeMulawSample(value)).toBe(code);
      }),
    );
  });

  it("keeps the quantisation error within half a segment step", () => {
    fc.assert(
      fc.property(fc.integer({ min: -32635, max: 32635 }), (x) => {
        const err = Math.abs(decodeMulawSample(encodeMulawSample(x)) - x);
        expect(err).toBeLessThanOrEqual((Math.abs(x) + 132) / 32 + 1);
      }),
      { numRuns: 2000 },
    );
  });

  it("is monotonic: a larger sample never decodes smaller", () => {
    let prev = Number.NEGATIVE_INFINITY;
    for (let x = -32768; x <= 32767; x += 7) {
      const y = decodeMulawSample(encodeMulawSample(x));
      expect(y).toBeGreaterThanOrEqual(prev);
      prev = y;
    }
  });

  it("converts arrays both ways consistently with the per-sample functions", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 400 }), (xs) => {
        const pcm = Int16Array.from(xs);
        const mulaw = pcmToMulaw(pcm);
        expect(Array.from(mulaw)).toEqual(xs.map(encodeMulawSample));
        expect(Array.from(mulawToPcm(mulaw))).toEqual(Array.from(mulaw, decodeMulawSample));
      }),
    );
  });
});

describe("base64 without Buffer", () => {
  it("matches Node's encoder and round-trips any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        const b64 = bytesToBase64(bytes);
        expect(b64).toBe(Buffer.from(bytes).toString("base64"));
        expect(Array.from(base64ToBytes(b64))).toEqual(Array.from(bytes));
      }),
    );
  });

  it("decodes URL-safe, unpadded and whitespace-broken input", () => {
    const bytes = Uint8Array.from([251, 255, 191, 0, 1]);
    const url = Buffer.from(bytes).toString("base64url");
    expect(Array.from(base64ToBytes(url))).toEqual(Array.from(bytes));
    expect(Array.from(base64ToBytes("+/+/\nAAE"))).toEqual([251, 255, 191, 0, 1]);
  });

  it("rejects characters outside the alphabet", () => {
    expect(() => base64ToBytes("ab$d")).toThrow(TypeError);
    expect(() => base64ToBytes("abé=")).toThrow(TypeError);
  });
});

describe("dbfs", () => {
  it("reports full-scale square as 0 dBFS, a -20 dBFS sine near -20, silence at the floor", () => {
    expect(dbfs(new Int16Array(160).fill(-32768))).toBeCloseTo(0, 5);
    expect(dbfs(tone(1000, 100, -20))).toBeCloseTo(-20, 0);
    expect(dbfs(new Int16Array(160))).toBe(DBFS_FLOOR);
    expect(dbfs(new Int16Array(0))).toBe(DBFS_FLOOR);
    expect(mulawDbfs(new Uint8Array(160).fill(0xff))).toBe(DBFS_FLOOR);
  });

  it("agrees between µ-law and PCM input", () => {
    const pcm = tone(700, 100, -30).subarray(320, 480); // a frame clear of the 5 ms edge ramps
    const mulaw = pcmToMulaw(pcm);
    expect(mulawDbfs(mulaw)).toBeCloseTo(dbfs(mulawToPcm(mulaw)), 6);
    expect(mulawDbfs(mulaw)).toBeCloseTo(-30, 0);
  });
});
