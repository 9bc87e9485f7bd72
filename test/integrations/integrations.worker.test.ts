import { describe, expect, it } from "vitest";
import { runAction } from "../../src/integrations/actions";
import { computeCalSignature, createCalcomClient, verifyCalSignature } from "../../src/integrations/calcom";
import { sendRequest } from "../../src/integrations/http";
import { normalisePhone } from "../../src/integrations/lead";
import { computeTwilioSignature, validateTwilioSignature } from "../../src/integrations/twilio-signature";

// The same modules must run inside workerd: WebCrypto, AbortSignal.any/timeout, Intl time zones.
describe("integrations in workerd", () => {
  it("computes and validates the documented Twilio signature", async () => {
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+14158675309",
      Digits: "1234",
      From: "+14158675309",
      To: "+18005551212",
    };
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    expect(await computeTwilioSignature("12345", url, params)).toBe("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    expect(
      await validateTwilioSignature({
        authToken: "12345",
        url,
        params,
        signature: "kvajT1Ptam85bY51eRf/AJRuM3w=",
      }),
    ).toBe(true);
  });

  it("verifies a Cal.com signature", async () => {
    const sig = await computeCalSignature('{"a":1}', "s");
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyCalSignature('{"a":1}', "s", sig)).toBe(true);
  });

  it("times out a hung fetch through the combined abort signals", async () => {
    const hang = ((_u: unknown, init?: RequestInit) =>
      new Promise<Response>((_r, reject) => {
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
      })) as typeof fetch;
    await expect(
      sendRequest({ provider: "t", url: "https://x.test/", timeoutMs: 50 }, { fetch: hang }),
    ).rejects.toMatchObject({
      retryable: true,
    });
  });

  it("runs an action to a clean failure when the calendar is unreachable", async () => {
    const failing = (async () => {
      throw new TypeError("network down");
    }) as typeof fetch;
    const calendar = createCalcomClient(
      { apiKey: "k", baseUrl: "https://cal.invalid" },
      { fetch: failing, random: () => 0 },
    );
    const res = await runAction(
      "cal.com:propose_slots",
      {},
      {
        callSid: "CA1",
        config: { eventTypeId: 1, defaultTimeZone: "Europe/London" },
        calendar: { getSlots: calendar.getSlots, createBooking: calendar.createBooking },
        nowMs: () => Date.parse("2026-03-02T08:00:00Z"),
      },
    );
    expect(res).toMatchObject({ ok: false, retryable: true });
    expect(normalisePhone("07700 900123")).toBe("+447700900123");
  });
});
