import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeMulawSample, MULAW_SILENCE } from "../../src/audio/mulaw";
import { encodeStereoWav, parseWav, wavHeader, wavHeaderLength } from "../../src/audio/wav";

describe("stereo WAV", () => {
  it.each(["mulaw", "pcm16"] as const)("writes a standard %s header", (format) => {
    const wav = encodeStereoWav(new Uint8Array(800), new Uint8Array(400), format);
    const view = new DataView(wav.buffer);
    const ascii = (o: number) => String.fromCharCode(...wav.subarray(o, o + 4));
    expect(ascii(0)).toBe("RIFF");
    expect(view.getUint32(4, true)).toBe(wav.length - 8);
    expect(ascii(8)).toBe("WAVE");
    expect(ascii(12)).toBe("fmt ");
    expect(view.getUint16(20, true)).toBe(format === "mulaw" ? 7 : 1);
    expect(view.getUint16(22, true)).toBe(2);
    expect(view.getUint32(24, true)).toBe(8000);
    expect(view.getUint32(28, true)).toBe(format === "mulaw" ? 16000 : 32000);
    expect(view.getUint16(34, true)).toBe(format === "mulaw" ? 8 : 16);
    expect(wav.length).toBe(wavHeaderLength(format) + 800 * (format === "mulaw" ? 2 : 4));
    expect(parseWav(wav)).toMatchObject({
      format,
      channels: 2,
      sampleRate: 8000,
      frames: 800,
      durationMs: 100,
    });
  });

  it.each(["mulaw", "pcm16"] as const)(
    "round-trips caller left and agent right at their offsets (%s)",
    (format) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (caller, agent) => {
          const parsed = parseWav(encodeStereoWav(caller, agent, format));
          const frames = Math.max(caller.length, agent.length);
          expect(parsed.frames).toBe(frames);
          const expectTrack = (track: Uint8Array) =>
            Array.from({ length: frames }, (_x, i) => decodeMulawSample(track[i] ?? MULAW_SILENCE));
          expect(Array.from(parsed.samples[0] ?? [])).toEqual(expectTrack(caller));
          expect(Array.from(parsed.samples[1] ?? [])).toEqual(expectTrack(agent));
        }),
        { numRuns: 50 },
      );
    },
  );

  it("streams: header for the final length plus separately interleaved parts parse as one file", () => {
    const header = wavHeader("mulaw", 2, 3);
    const file = new Uint8Array([...header, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(parseWav(file).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("rejects non-WAV and unsupported formats", () => {
    expect(() => parseWav(new Uint8Array(20))).toThrow();
    const wav = encodeStereoWav(new Uint8Array(4), new Uint8Array(4), "pcm16");
    new DataView(wav.buffer).setUint16(20, 3, true); // IEEE float
    expect(() => parseWav(wav)).toThrow(/unsupported/);
  });
});
