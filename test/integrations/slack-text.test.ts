import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeSlackText } from "../../src/integrations/slack-text";

describe("Slack text escaping", () => {
  it("turns mentions, links and entities into inert text", () => {
    expect(escapeSlackText("<!channel> hi")).toBe("&lt;!channel&gt; hi");
    expect(escapeSlackText("<https://evil.example|click> & <@U123>")).toBe(
      "&lt;https://evil.example|click&gt; &amp; &lt;@U123&gt;",
    );
    expect(escapeSlackText("O'Brien & Sons")).toBe("O'Brien &amp; Sons");
    expect(escapeSlackText("&lt;")).toBe("&amp;lt;");
  });

  it("never leaves a < or > and is reversed exactly by unescaping (property)", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = escapeSlackText(s);
        const back = out.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
        return !/[<>]/.test(out) && back === s;
      }),
      { seed: 3, numRuns: 1_000 },
    );
  });
});
