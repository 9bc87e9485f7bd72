import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { CampaignProgress } from "../../src/campaign/store";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { computeTwilioSignature } from "../../src/integrations/twilio-signature";
import { durableObjectEdgePorts, type EdgeStateNamespace } from "../../src/lead/edge-ports";
import { callApp, emulatorState, sql, testBindings } from "./business-support";

const TOKEN = "campaign-test-token-0123456789";
const bindings = () => testBindings({ CAMPAIGN_API_TOKEN: TOKEN });
const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

/** A window that is always open, so the test does not depend on the day it runs. */
const ALWAYS = {
  days: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
  start: "00:00",
  end: "24:00",
  excludeBankHolidays: false,
};

interface EmulatedCall {
  sid: string;
  to: string;
  createParams: Record<string, string | string[]>;
}

function phone(): string {
  return `+447700${String(Math.floor(Math.random() * 900_000) + 100_000)}`;
}

async function callsTo(numbers: string[]): Promise<EmulatedCall[]> {
  const state = await emulatorState<{ calls: EmulatedCall[] }>("twilio");
  return state.calls.filter((c) => numbers.includes(c.to));
}

async function until<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POST a signed form to a full URL (as Twilio signs it), through the app with the test bindings. */
async function twilioPost(url: string, params: Record<string, string>): Promise<Response> {
  const signature = await computeTwilioSignature(LOCAL_CREDENTIALS.twilioAuthToken, url, params);
  const u = new URL(url);
  return callApp(
    `${u.pathname}${u.search}`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      body: new URLSearchParams(params).toString(),
    },
    bindings(),
  );
}

async function progress(id: string): Promise<CampaignProgress> {
  const res = await callApp(`/api/campaigns/${id}`, { headers: auth }, bindings());
  expect(res.status).toBe(200);
  return (await res.json()) as CampaignProgress;
}

describe("campaign API access", () => {
  it("is closed without CAMPAIGN_API_TOKEN and refuses a wrong bearer token", async () => {
    const closed = await callApp("/api/campaigns", { method: "POST", headers: auth, body: "{}" });
    expect(closed.status).toBe(403);
    const wrong = await callApp(
      "/api/campaigns/cmp_00000000000000000000",
      { headers: { authorization: "Bearer nope" } },
      bindings(),
    );
    expect(wrong.status).toBe(401);
  });

  it("validates the campaign body", async () => {
    const res = await callApp(
      "/api/campaigns",
      { method: "POST", headers: auth, body: JSON.stringify({ flow: "outbound-booking", callerId: "0207" }) },
      bindings(),
    );
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_body" } });
  });
});

describe("a campaign end to end", () => {
  it("dials only allowed numbers at the set concurrency, closes attempts from status callbacks and reports progress", async () => {
    const created = await callApp(
      "/api/campaigns",
      {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          flow: "outbound-booking",
          callerId: "+442071234567",
          callingWindow: ALWAYS,
          maxConcurrentCalls: 2,
          pacingPerMinute: 600,
          retry: { maxAttempts: 1, delayMs: 600_000 },
        }),
      },
      bindings(),
    );
    expect(created.status).toBe(201);
    const { id, postgres } = (await created.json()) as { id: string; postgres: string };
    expect(postgres).toBe("written");

    const allowed = [phone(), phone(), phone()];
    const blocked = phone();
    await durableObjectEdgePorts(env.EDGE_STATE as unknown as EdgeStateNamespace).suppressions.add(
      blocked,
      "test",
    );
    const leads = [...allowed.slice(0, 1), blocked, ...allowed.slice(1)].map((p, i) => ({
      phone: p,
      first_name: `Jo${i}`,
      email: `jo${i}@example.com`,
      timezone: "Europe/London",
      consent: { given: true, text: "Call me about my quote" },
    }));
    const added = await callApp(
      `/api/campaigns/${id}/leads`,
      { method: "POST", headers: auth, body: JSON.stringify({ leads }) },
      bindings(),
    );
    expect(await added.json()).toMatchObject({ added: 4, duplicates: 0, postgres: "written" });
    expect((await progress(id)).dialed).toBe(0);

    const started = await callApp(
      `/api/campaigns/${id}/start`,
      { method: "POST", headers: auth },
      bindings(),
    );
    expect(started.status).toBe(200);

    // Two lines: two calls, and the suppressed number is skipped, never dialled.
    const firstTwo = await until(
      "two calls",
      () => callsTo([...allowed, blocked]),
      (c) => c.length >= 2,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await callsTo([...allowed, blocked])).toHaveLength(2);
    expect((await progress(id)).suppressed).toBe(1);
    const first = firstTwo[0];
    if (!first) throw new Error("no call");
    const form = first.createParams;
    const voice = new URL(String(form.Url));
    expect(voice.searchParams.get("campaign")).toBe(id);
    // No personal data on the answer URL (Twilio logs it): the lead id only; the call loads the rest.
    expect(voice.searchParams.get("var_lead_id")).toMatch(/^ld_/);
    for (const k of ["var_first_name", "var_email", "var_time_zone"])
      expect(voice.searchParams.has(k)).toBe(false);
    expect(form.AsyncAmd).toBe("true");
    expect(form.MachineDetection).toBe("DetectMessageEnd");
    expect(form.From).toBe("+442071234567");

    // AMD says voicemail on the first call; then its completed status frees a line for the third lead.
    const amdUrl = String(form.AsyncAmdStatusCallback);
    expect((await twilioPost(amdUrl, { CallSid: first.sid, AnsweredBy: "machine_end_beep" })).status).toBe(
      204,
    );
    const statusUrl = String(form.StatusCallback);
    expect(
      (await twilioPost(statusUrl, { CallSid: first.sid, CallStatus: "completed", CallDuration: "31" }))
        .status,
    ).toBe(204);
    const all = await until(
      "third call",
      () => callsTo([...allowed, blocked]),
      (c) => c.length >= 3,
    );
    expect(all.map((c) => c.to).sort()).toEqual([...allowed].sort());

    for (const [i, call] of all.slice(1).entries()) {
      const status = i === 0 ? "completed" : "no-answer";
      expect((await twilioPost(statusUrl, { CallSid: call.sid, CallStatus: status })).status).toBe(204);
    }
    const done = await until(
      "attempts closed",
      () => progress(id),
      (p) => p.inFlight === 0 && p.pending === 0,
    );
    expect(done).toMatchObject({
      leads: 4,
      dialed: 3,
      voicemail: 1,
      answered: 1,
      unreachable: 1,
      suppressed: 1,
    });

    // The audit trail reaches Postgres: each attempt with its caller ID and consent.
    const attempts = await until(
      "attempt events in Postgres",
      () =>
        sql<{ payload: { phone: string; callerId: string; consent: { given: boolean } } }>(
          "SELECT payload FROM call_events WHERE call_sid = $1 AND type = 'campaign.attempt'",
          [`campaign:${id}`],
        ),
      (rows) => rows.length === 3,
    );
    for (const row of attempts)
      expect(row.payload).toMatchObject({ callerId: "+442071234567", consent: { given: true } });
    expect(attempts.map((r) => r.payload.phone)).not.toContain(blocked);
    const rows = await sql<{ status: string }>("SELECT status FROM campaigns WHERE id = $1", [id]);
    expect(rows[0]?.status).toBe("running");
  });

  it("refuses unsigned campaign callbacks", async () => {
    const res = await callApp(
      "/twilio/campaign-status?campaign=cmp_00000000000000000000",
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `CallSid=CA${"0".repeat(32)}&CallStatus=completed`,
      },
      bindings(),
    );
    expect(res.status).toBe(403);
  });
});
