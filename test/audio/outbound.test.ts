import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createOutboundChunker } from "../../src/audio/outbound";

describe("outbound chunker", () => {
  it("turns any byte stream, in any split, into ordered chunks of whole 160-byte frames with marks, padding only the end", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 12 }),
        (audio, cuts, framesPerChunk) => {
          const chunker = createOutboundChunker({ utteranceId: "u7", framesPerChunk });
          const chunks = [];
          let o = 0;
          for (const c of cuts) {
            chunks.push(...chunker.push(audio.subarray(o, Math.min(audio.length, o + c))));
            o = Math.min(audio.length, o + c);
          }
          chunks.push(...chunker.push(audio.subarray(o)));
          chunks.push(...chunker.flush());
          expect(chunks.every((c) => c.audio.length === c.frameCount * 160)).toBe(true);
          const out = chunks.flatMap((c) => Array.from(c.audio));
          const expected = Array.from(audio);
          while (expected.length % 160 !== 0) expected.push(0xff);
          expect(out).toEqual(expected);
          expect(chunks.map((c) => c.markName)).toEqual(chunks.map((_c, i) => `u7:${i}`));
          expect(chunks.slice(0, -1).every((c) => c.frameCount === framesPerChunk && !c.final)).toBe(true);
          expect(
            chunks.every((c) => c.byteCount === c.audio.length && c.durationMs === c.frameCount * 20),
          ).toBe(true);
        },
      ),
    );
  });

  it("holds the remainder until more audio or flush", () => {
    const c = createOutboundChunker({
      utteranceId: "a",
      framesPerChunk: 2,
      markName: (id, i) => `${id}-${i}`,
    });
    expect(c.push(new Uint8Array(300))).toEqual([]);
    expect(c.pendingBytes).toBe(300);
    const [first] = c.push(new Uint8Array(100));
    expect(first).toMatchObject({ markName: "a-0", chunkIndex: 0, byteCount: 320, final: false });
    expect(c.pendingBytes).toBe(80);
    const [last] = c.flush();
    expect(last).toMatchObject({ markName: "a-1", byteCount: 160, final: true });
    expect(Array.from(last?.audio.subarray(80) ?? [])).toEqual(new Array(80).fill(0xff));
    expect(c.flush()).toEqual([]);
    expect(() => c.push(new Uint8Array(1))).toThrow();
  });
});
