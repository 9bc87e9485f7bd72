import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InboundFrameSchema, parseInboundFrame } from "../../src/call/twilio-frames";

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

  it("reads a media frame exactly as the schema does, whatever its fields hold", () => {
    const numeric = fc.oneof(fc.integer(), fc.double(), fc.stringMatching(/^[0-9]{0,6}$/), fc.string());
    const anything = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
    );
    const media = fc.record(
      {
        event: fc.constant("media"),
        sequenceNumber: fc.oneof(numeric, anything),
        streamSid: fc.oneof(fc.string(), anything),
        media: fc.record(
          {
            track: fc.oneof(fc.constant("inbound"), anything),
            chunk: fc.oneof(numeric, anything),
            timestamp: fc.oneof(numeric, anything),
            payload: fc.oneof(fc.base64String(), fc.string(), anything),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["event"] },
    );
    fc.assert(
      fc.property(media, (frame) => {
        const json = JSON.stringify(frame);
        const viaSchema = InboundFrameSchema.safeParse(JSON.parse(json));
        const parsed = parseInboundFrame(json);
        expect(parsed.ok).toBe(viaSchema.success);
        if (parsed.ok && viaSchema.success) expect(parsed.frame).toStrictEqual(viaSchema.data);
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
