import { afterEach, describe, expect, it } from "vitest";
import { startCalcomEmulator } from "../../../src/tooling/emulators/calcom";
import type { EmulatorControls } from "../../../src/tooling/emulators/http-shared";
import { startHubspotEmulator } from "../../../src/tooling/emulators/hubspot";
import { startSlackEmulator } from "../../../src/tooling/emulators/slack";
import { startTwilioEmulator } from "../../../src/tooling/emulators/twilio";

const open: EmulatorControls[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});
async function track<T extends EmulatorControls>(p: Promise<T>): Promise<T> {
  const e = await p;
  open.push(e);
  return e;
}
const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const NOW = Date.parse("2026-03-02T08:00:00Z");
const calHeaders = (version: string) => ({
  authorization: "Bearer cal_test_key",
  "cal-api-version": version,
  "content-type": "application/json",
});
const bookingBody = JSON.stringify({
  eventTypeId: 1,
  start: "2026-03-02T10:00:00Z",
  attendee: { name: "Jo", email: "jo@example.co.uk", timeZone: "Europe/London" },
});

describe("business emulators", () => {
  it("Cal.com rejects the booking API version we did not pin, and a missing one", async () => {
    const cal = await track(startCalcomEmulator({ nowMs: () => NOW }));
    for (const version of ["2026-02-25", ""]) {
      const res = await fetch(`${cal.url}/v2/bookings`, {
        method: "POST",
        headers: calHeaders(version),
        body: bookingBody,
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { status: string; error: { code: string; message: string } };
      expect(body.status).toBe("error");
      expect(body.error.message).toContain("2024-08-13");
    }
    const ok = await fetch(`${cal.url}/v2/bookings`, {
      method: "POST",
      headers: calHeaders("2024-08-13"),
      body: bookingBody,
    });
    expect(ok.status).toBe(201);
    const slots = await fetch(`${cal.url}/v2/slots?eventTypeId=1&start=2026-03-02&end=2026-03-02`, {
      headers: { "cal-api-version": "2024-08-13" },
    });
    expect(slots.status).toBe(400);
  });

  it("Cal.com answers 400 in its error shape for a taken slot and 401 without a key", async () => {
    const cal = await track(startCalcomEmulator({ nowMs: () => NOW }));
    await fetch(`${cal.url}/v2/bookings`, {
      method: "POST",
      headers: calHeaders("2024-08-13"),
      body: bookingBody,
    });
    const taken = await fetch(`${cal.url}/v2/bookings`, {
      method: "POST",
      headers: calHeaders("2024-08-13"),
      body: bookingBody,
    });
    expect(taken.status).toBe(400);
    expect(await taken.json()).toMatchObject({ status: "error", error: { code: "BadRequestException" } });
    const unauth = await fetch(`${cal.url}/v2/bookings`, {
      method: "POST",
      headers: { "cal-api-version": "2024-08-13" },
      body: bookingBody,
    });
    expect(unauth.status).toBe(401);
  });

  it("exposes faults, latency, recorded requests, state and reset over the control API", async () => {
    const hs = await track(startHubspotEmulator());
    expect(
      (await fetch(`${hs.url}/__emulator/faults`, json({ status: 503, body: { message: "down" }, times: 2 })))
        .status,
    ).toBe(204);
    const auth = { authorization: "Bearer hs_test_token", "content-type": "application/json" };
    const contact = JSON.stringify({ properties: { email: "jo@example.co.uk" } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        (await fetch(`${hs.url}/crm/v3/objects/contacts`, { method: "POST", headers: auth, body: contact }))
          .status,
      );
    }
    expect(statuses).toEqual([503, 503, 201]);
    const dup = await fetch(`${hs.url}/crm/v3/objects/contacts`, {
      method: "POST",
      headers: auth,
      body: contact,
    });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ status: "error", category: "CONFLICT" });

    await fetch(`${hs.url}/__emulator/latency`, json({ ms: 200 }));
    const t0 = Date.now();
    await fetch(`${hs.url}/crm/v3/objects/contacts/1`, { headers: auth });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);

    const recorded = (await (await fetch(`${hs.url}/__emulator/requests`)).json()) as unknown[];
    expect(recorded).toHaveLength(5);
    const state = (await (await fetch(`${hs.url}/__emulator/state`)).json()) as { contacts: unknown[] };
    expect(state.contacts).toHaveLength(1);
    await fetch(`${hs.url}/__emulator/reset`, { method: "POST" });
    expect(hs.requests()).toHaveLength(0);
    expect(hs.contacts()).toHaveLength(0);
  });

  it("HubSpot answers 429 with rate-limit headers past its burst limit", async () => {
    const hs = await track(
      startHubspotEmulator({ burstLimit: { max: 1, intervalMs: 10_000, retryAfterSeconds: 2 } }),
    );
    const auth = { authorization: "Bearer hs_test_token" };
    expect((await fetch(`${hs.url}/crm/v3/objects/contacts/1`, { headers: auth })).status).toBe(404);
    const limited = await fetch(`${hs.url}/crm/v3/objects/contacts/1`, { headers: auth });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2");
    expect(limited.headers.get("x-hubspot-ratelimit-remaining")).toBe("0");
    expect(await limited.json()).toMatchObject({ policyName: "TEN_SECONDLY_ROLLING" });
  });

  it("Slack replies in plain text to webhooks and {ok,error} JSON to the Web API", async () => {
    const sl = await track(startSlackEmulator({ rateLimit: { max: 2, intervalMs: 10_000 } }));
    const post = (body: string) =>
      fetch(sl.webhookUrl, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(await (await post('{"text":"hi"}')).text()).toBe("ok");
    const noText = await post("{}");
    expect([noText.status, await noText.text()]).toEqual([400, "no_text"]);
    const limited = await post('{"text":"again"}');
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "10"]);
    const api = await fetch(`${sl.apiBaseUrl}/chat.postMessage`, json({ channel: "C1", text: "x" }));
    expect([api.status, await api.json()]).toEqual([200, { ok: false, error: "not_authed" }]);
  });

  it("a stalled request is held open until the emulator closes", async () => {
    const sl = await startSlackEmulator({ faults: [{ stall: true }] });
    const pending = fetch(sl.webhookUrl, json({ text: "x" })).then(
      () => "answered",
      () => "dropped",
    );
    const early = await Promise.race([
      pending,
      new Promise((r) => setTimeout(() => r("still waiting"), 200)),
    ]);
    expect(early).toBe("still waiting");
    await sl.close();
    expect(await pending).toBe("dropped");
  });

  it("Twilio call progress can be driven over the control API", async () => {
    const tw = await track(startTwilioEmulator());
    const auth = `Basic ${Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString("base64")}`;
    const created = await fetch(`${tw.url}/2010-04-01/Accounts/${tw.accountSid}/Calls.json`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        To: "+447700900123",
        From: "+442079460000",
        Url: "https://a.example/v",
      }).toString(),
    });
    const { sid } = (await created.json()) as { sid: string };
    const res = await fetch(`${tw.url}/__emulator/calls/${sid}/progress`, json({ status: "in-progress" }));
    expect(res.status).toBe(200);
    expect(tw.calls()[0]?.status).toBe("in-progress");
    const missingUrl = await fetch(`${tw.url}/2010-04-01/Accounts/${tw.accountSid}/Calls.json`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ To: "+447700900123", From: "+442079460000" }).toString(),
    });
    expect(await missingUrl.json()).toMatchObject({ code: 21205, status: 400 });
  });

  it("Twilio learns a call it did not place, so the app can hang it up", async () => {
    const tw = await track(startTwilioEmulator());
    const auth = `Basic ${Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString("base64")}`;
    const sid = `CA${"ab".repeat(16)}`;
    const hangUp = () =>
      fetch(`${tw.url}/2010-04-01/Accounts/${tw.accountSid}/Calls/${sid}.json`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ Status: "completed" }).toString(),
      });
    expect((await hangUp()).status).toBe(404);
    const reg = await fetch(
      `${tw.url}/__emulator/calls`,
      json({ sid, from: "+447700900123", to: "+442079460000" }),
    );
    expect(reg.status).toBe(201);
    expect((await fetch(`${tw.url}/__emulator/calls`, json({ sid, from: "a", to: "b" }))).status).toBe(409);
    expect(
      (await fetch(`${tw.url}/__emulator/calls`, json({ sid: "nope", from: "a", to: "b" }))).status,
    ).toBe(400);
    expect((await hangUp()).status).toBe(200);
    expect(tw.calls()[0]?.status).toBe("completed");
  });
});
