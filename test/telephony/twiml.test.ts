import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { connectStreamTwiml, xmlEscape } from "../../src/telephony/twiml";

const xmlUnescape = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

describe("TwiML escaping", () => {
  it("round-trips any printable value through an attribute and never leaves markup characters raw", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (value) => {
        const escaped = xmlEscape(value);
        expect(escaped).not.toMatch(/[<>"]/);
        expect(escaped.replace(/&(amp|lt|gt|quot|apos);/g, "")).not.toContain("&");
        const printable = [...value].filter((c) => c.charCodeAt(0) >= 0x20 || "\t\n\r".includes(c)).join("");
        expect(xmlUnescape(escaped)).toBe(printable);
      }),
    );
  });

  it("keeps hostile parameters inside their attribute", () => {
    const twiml = connectStreamTwiml(
      "wss://h/media/CA1",
      { var_name: '"/><Hangup/><x a="' },
      { redirectUrl: "https://h/twilio/voice?a=1&b=2" },
    );
    expect(twiml).not.toContain("<Hangup/>");
    expect(twiml).toContain("&lt;Hangup/&gt;");
    expect(twiml).toContain('<Redirect method="POST">https://h/twilio/voice?a=1&amp;b=2</Redirect>');
  });
});
