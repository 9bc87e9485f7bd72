import fc from "fast-check";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import {
  computeTwilioSignature,
  twilioParamsFromForm,
  twilioSigningString,
  validateTwilioJsonBody,
  validateTwilioSignature,
} from "../../src/integrations/twilio-signature";

const TOKEN = "12345";
const PARAMS = {
  CallSid: "CA1234567890ABCDE",
  Caller: "+14158675309",
  Digits: "1234",
  From: "+14158675309",
  To: "+18005551212",
};

// protocols.md §2 (twilio-node spec/validation.spec.js)
const VECTORS = [
  ["https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="],
  ["https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="],
  ["http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="],
] as const;
const JSON_BODY = '{"property": "value", "boolean": true}';
const BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
const JSON_URL = `https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256=${BODY_HASH}`;

describe("Twilio signature", () => {
  it.each(VECTORS)("computes the documented signature for %s", async (url, expected) => {
    expect(await computeTwilioSignature(TOKEN, url, PARAMS)).toBe(expected);
    expect(
      await validateTwilioSignature({ authToken: TOKEN, url, params: PARAMS, signature: expected }),
    ).toBe(true);
  });

  it("computes the documented JSON-body signature and accepts the body it hashes", async () => {
    expect(await computeTwilioSignature(TOKEN, JSON_URL, {})).toBe("a9nBmqA0ju/hNViExpshrM61xv4=");
    const ok = await validateTwilioJsonBody({
      authToken: TOKEN,
      url: JSON_URL,
      rawBody: JSON_BODY,
      signature: "a9nBmqA0ju/hNViExpshrM61xv4=",
    });
    expect(ok).toBe(true);
  });

  it("rejects a JSON body that does not match its bodySHA256 even with a valid signature", async () => {
    const ok = await validateTwilioJsonBody({
      authToken: TOKEN,
      url: JSON_URL,
      rawBody: '{"property": "other", "boolean": true}',
      signature: "a9nBmqA0ju/hNViExpshrM61xv4=",
    });
    expect(ok).toBe(false);
  });

  it("accepts the port-added and port-stripped variants of the signed URL", async () => {
    // Signed with :443 but received without a port, and the reverse.
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(
      await validateTwilioSignature({ authToken: TOKEN, url, params: PARAMS, signature: VECTORS[1][1] }),
    ).toBe(true);
    const withPort = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    expect(
      await validateTwilioSignature({
        authToken: TOKEN,
        url: withPort,
        params: PARAMS,
        signature: VECTORS[0][1],
      }),
    ).toBe(true);
  });

  it("accepts a query Twilio signed in legacy-encoded form", async () => {
    const received = "https://example.com/voice?next=https://x.test/a&n=1";
    const signedUrl = "https://example.com/voice?next=https%3A%2F%2Fx.test%2Fa&n=1";
    const signature = await computeTwilioSignature(TOKEN, signedUrl, PARAMS);
    expect(twilio.validateRequest(TOKEN, signature, received, PARAMS)).toBe(true);
    expect(
      await validateTwilioSignature({ authToken: TOKEN, url: received, params: PARAMS, signature }),
    ).toBe(true);
  });

  it("rejects a forged signature, a tampered param, a wrong token and a missing header", async () => {
    const [url, sig] = VECTORS[0];
    const base = { authToken: TOKEN, url, params: PARAMS, signature: sig };
    expect(await validateTwilioSignature({ ...base, signature: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" })).toBe(false);
    expect(await validateTwilioSignature({ ...base, params: { ...PARAMS, Digits: "9" } })).toBe(false);
    expect(await validateTwilioSignature({ ...base, authToken: "54321" })).toBe(false);
    expect(await validateTwilioSignature({ ...base, signature: undefined })).toBe(false);
    expect(await validateTwilioSignature({ ...base, signature: "" })).toBe(false);
  });

  it("signs repeated params as each distinct sorted value prefixed by the name", () => {
    const params = twilioParamsFromForm(new URLSearchParams("B=2&A=z&A=y&A=z"));
    expect(params).toEqual({ B: "2", A: ["z", "y", "z"] });
    expect(twilioSigningString("https://x.test/p", params)).toBe("https://x.test/pAyAzB2");
  });

  it("agrees with twilio-node for arbitrary params and URLs", async () => {
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,10}$/);
    const value = fc.string({ maxLength: 20 });
    const params = fc.dictionary(key, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), {
      maxKeys: 6,
    });
    const url = fc
      .tuple(
        fc.constantFrom("https", "http"),
        fc.constantFrom("", ":443", ":8080"),
        fc.stringMatching(/^[a-z0-9/]{0,12}$/),
        fc.stringMatching(/^[a-z0-9=&]{0,12}$/),
      )
      .map(([s, port, path, q]) => `${s}://example.com${port}/${path}${q ? `?${q}` : ""}`);
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 32 }), url, params, async (token, u, p) => {
        const ours = await computeTwilioSignature(token, u, p);
        expect(ours).toBe(twilio.getExpectedTwilioSignature(token, u, p));
        expect(await validateTwilioSignature({ authToken: token, url: u, params: p, signature: ours })).toBe(
          twilio.validateRequest(token, ours, u, p),
        );
      }),
      { numRuns: 150 },
    );
  });
});
