import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseInboundFrame } from "../../src/call/twilio-frames";

describe("parseInboundFrame", () => {
  it("accepts Twilio's documented frames with string numbers", () => {
    const r = parseInboundFrame(
      JSON.stringify({
        event: "media",
        sequenceNumber: "2",
        streamSid: "MZ1",
        media: { track: "inbound", chunk: "1", timestamp: "5", payload: "/w==" },
      }),
    );
    expect(r).toMatchObject({ ok: true, frame: { event: "media", media: { timestamp: 5 } } });
  });

  it("never throws: any text is a frame or a reason", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const r = parseInboundFrame(text);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it.each([
    ["not JSON", "{nope"],
    ["unknown event", JSON.stringify({ event: "surprise" })],
    ["bad payload", JSON.stringify({ event: "media", media: { timestamp: "1", payload: "%%%" } })],
    ["bad digit", JSON.stringify({ event: "dtmf", dtmf: { digit: "12" } })],
  ])("drops %s with a reason", (_what, text) => {
    expect(parseInboundFrame(text).ok).toBe(false);
  });
});
