import { describe, expect, it } from "vitest";
import {
  decodeRenderEvent,
  encodeRenderEvent,
  formatBytes,
  formatRenderEvent,
  type RenderEvent,
} from "../../src/tts-cache/progress";

describe("render progress lines", () => {
  const line: RenderEvent = {
    type: "line",
    index: 3,
    total: 12,
    key: "utterances/abc.ulaw",
    text: "Hello.",
    lineIds: ["greeting.say"],
    status: "rendered",
    bytes: 1843,
  };

  it("round-trips through NDJSON", () => {
    const encoded = encodeRenderEvent(line);
    expect(encoded.endsWith("\n")).toBe(true);
    expect(decodeRenderEvent(encoded)).toEqual(line);
    expect(decodeRenderEvent("")).toBeNull();
    expect(decodeRenderEvent("{nope")).toBeInstanceOf(Error);
    expect(decodeRenderEvent('{"type":"line"}')).toBeInstanceOf(Error);
  });

  it("prints one line per key and a summary", () => {
    expect(formatRenderEvent(line)).toBe("[3/12] rendered greeting.say (1.8 KB)");
    expect(
      formatRenderEvent({
        ...line,
        status: "failed",
        bytes: 0,
        error: "503",
        lineIds: ["a.ask", "b.reprompt"],
      }),
    ).toBe("[3/12] FAILED   a.ask (+1 more): 503");
    expect(
      formatRenderEvent({
        type: "done",
        total: 12,
        rendered: 9,
        cached: 3,
        failed: 0,
        bytes: 20_480,
        aborted: false,
        elapsedMs: 3_140,
      }),
    ).toBe("Done. 9 rendered (20.0 KB), 3 already cached, 0 failed, in 3.1 s");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MB");
  });
});
