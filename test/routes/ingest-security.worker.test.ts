import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardOf } from "../../src/lead/edge-ports";
import type { OutboxEntry } from "../../src/lead/edge-store";
import type { PendingLead } from "../../src/lead/lead-outbox";
import {
  ACME_CONSENT,
  CRM_SERVER_TOKEN,
  callApp,
  IN_HOURS_MS,
  OUT_OF_HOURS_MS,
  requestsMentioning,
  SITE_ORIGIN,
  TURNSTILE_DUMMY_TOKEN,
  testBindings,
  unique,
} from "./business-support";

/** An allocated UK mobile, unique enough per case. */
function ukMobile(): string {
  return `+447400${String(Math.floor(Math.random() * 900_000) + 100_000)}`;
}

function lead(tag: string, phone: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Jo ${tag}`,
    email: `${tag}@example.com`,
    phone,
    intent: `quote ${tag}`,
    source: "contact-form",
    site_id: "acme",
    consent: { given: true, text: ACME_CONSENT.text, version: ACME_CONSENT.version },
    turnstile_token: TURNSTILE_DUMMY_TOKEN,
    ...extra,
  };
}

/** Post with a browser's headers unless `headers` replaces them (a key set to undefined drops it). */
function post(body: unknown, opts: { headers?: Record<string, string | undefined>; nowMs?: number } = {}) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    "content-type": "application/json",
    origin: SITE_ORIGIN,
    "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}`,
    ...opts.headers,
  })) {
    if (v !== undefined) headers[k] = v;
  }
  return callApp(
    "/api/ingest/lead",
    { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) },
    testBindings({
      ALLOW_CLOCK_OVERRIDE: "true",
      CLOCK_OVERRIDE_MS: String(opts.nowMs ?? IN_HOURS_MS),
      LEAD_RATE_LIMIT_IP_PER_MINUTE: "1000",
    }),
  );
}

async function callsTo(number: string): Promise<number> {
  return (await requestsMentioning("twilio", number)).filter((r) => r.path.endsWith("/Calls.json")).length;
}

interface Case {
  name: string;
  /** Requests sent before the refused one (to fill a cap); they may be accepted. */
  warmup?: (tag: string, number: string) => Promise<void>;
  send: (tag: string, number: string) => Promise<Response>;
  status: number;
  code: string;
  /** Number the case posts, default a fresh UK mobile. */
  number?: string;
}

const CASES: Case[] = [
  {
    name: "no Origin and no server token",
    send: (t, n) => post(lead(t, n), { headers: { origin: undefined } }),
    status: 403,
    code: "origin_required",
  },
  {
    name: "an origin the site does not list",
    send: (t, n) => post(lead(t, n), { headers: { origin: "https://evil.example" } }),
    status: 403,
    code: "origin_not_allowed",
  },
  {
    name: "no Turnstile token",
    send: (t, n) => post(lead(t, n, { turnstile_token: undefined })),
    status: 403,
    code: "bot_check_required",
  },
  {
    name: "a forged Turnstile token",
    send: (t, n) => post(lead(t, n, { turnstile_token: "forged.token.value" })),
    status: 403,
    code: "bot_check_failed",
  },
  {
    name: "a browser post to a site with no Turnstile secret",
    send: (t, n) => post(lead(t, n, { site_id: "quiet" }), { headers: { origin: "https://quiet.example" } }),
    status: 403,
    code: "bot_check_not_configured",
  },
  {
    name: "a wrong server token",
    send: (t, n) =>
      post(lead(t, n, { site_id: "crm", turnstile_token: undefined }), {
        headers: { origin: undefined, authorization: "Bearer not-the-crm-token-0123456789abcdef" },
      }),
    status: 401,
    code: "bad_server_token",
  },
  {
    name: "a server token for a site that has none",
    send: (t, n) =>
      post(lead(t, n), { headers: { origin: undefined, authorization: `Bearer ${CRM_SERVER_TOKEN}` } }),
    status: 401,
    code: "bad_server_token",
  },
  {
    name: "a premium-rate 09 number",
    number: "+449098790000",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "number_type_not_allowed",
  },
  {
    name: "an 087 number",
    number: "+448711234567",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "number_type_not_allowed",
  },
  {
    name: "a 070 personal number",
    number: "+447012345678",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "number_type_not_allowed",
  },
  {
    name: "a US number",
    number: "+12025550123",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "country_not_allowed",
  },
  {
    name: "a French mobile",
    number: "+33612345678",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "country_not_allowed",
  },
  {
    name: "an Isle of Man mobile",
    number: "+447624123456",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "country_not_allowed",
  },
  {
    name: "an unallocated number",
    number: "+447700900123",
    send: (t, n) => post(lead(t, n)),
    status: 422,
    code: "invalid_number",
  },
  {
    name: "a huge body",
    send: (t, n) => post(lead(t, n, { intent: "x".repeat(20_000) })),
    status: 413,
    code: "body_too_large",
  },
  {
    name: "a Slack-markup name",
    send: (t, n) => post(lead(t, n, { name: `<!channel> ${t}` })),
    status: 422,
    code: "invalid_lead",
  },
  {
    name: "a link-markup name",
    send: (t, n) => post(lead(t, n, { name: `<https://evil.example|${t}>` })),
    status: 422,
    code: "invalid_lead",
  },
  {
    name: "a third lead for one number in a day (other email and intent)",
    warmup: async (_t, n) => {
      for (const i of [1, 2]) {
        const other = `w${unique()}`;
        const r = await post(lead(other, n, { email: `${other}@example.com`, intent: `other ${i}` }));
        expect(r.status).toBe(202);
      }
    },
    send: (t, n) => post(lead(t, n)),
    status: 429,
    code: "number_cap",
  },
  {
    name: "a lead over the site's daily cap",
    warmup: async (_t) => {
      for (const i of [1, 2, 3]) {
        const r = await post(
          lead(`d${i}${unique()}`, ukMobile(), {
            site_id: "crmcap",
            turnstile_token: undefined,
            consent: { given: false, text: "" },
          }),
          {
            headers: { origin: undefined, authorization: `Bearer ${CRM_SERVER_TOKEN}` },
          },
        );
        expect(r.status).toBe(202);
      }
    },
    send: (t, n) =>
      post(lead(t, n, { site_id: "crmcap", turnstile_token: undefined }), {
        headers: { origin: undefined, authorization: `Bearer ${CRM_SERVER_TOKEN}` },
      }),
    status: 429,
    code: "site_daily_cap",
  },
];

describe("lead endpoint security matrix", () => {
  it("refuses every bad lead payload with a 4xx and a reason, and places no call for any of them", async () => {
    let tried = 0;
    let refused = 0;
    let callsPlaced = 0;
    for (const c of CASES) {
      const tag = `sec${unique()}`;
      const number = c.number ?? ukMobile();
      await c.warmup?.(tag, number);
      const before = await callsTo(number);
      const res = await c.send(tag, number);
      tried++;
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      expect({ case: c.name, status: res.status, code: body.error?.code }).toEqual({
        case: c.name,
        status: c.status,
        code: c.code,
      });
      expect(body.error?.message?.length ?? 0).toBeGreaterThan(0);
      if (res.status >= 400 && res.status < 500) refused++;
      const placed = (await callsTo(number)) - before;
      callsPlaced += placed;
      for (const emulator of ["hubspot", "slack"]) {
        expect(await requestsMentioning(emulator, tag), `${c.name}: ${emulator}`).toHaveLength(0);
      }
    }
    console.log(
      `lead security matrix: bad payloads tried ${tried}, refused ${refused}, calls placed by them ${callsPlaced}`,
    );
    expect(refused).toBe(tried);
    expect(callsPlaced).toBe(0);
  });

  it("calls a lead a CRM posts with the site's token, without Origin or Turnstile", async () => {
    const number = ukMobile();
    const res = await post(lead(`s2s${unique()}`, number, { site_id: "crm", turnstile_token: undefined }), {
      headers: { origin: undefined, authorization: `Bearer ${CRM_SERVER_TOKEN}` },
    });
    expect(res.status).toBe(202);
    expect(await callsTo(number)).toBe(1);
  });

  it("never dials on the submitter's word alone: consent without the site's wording version is recorded as none", async () => {
    for (const consent of [
      { given: true, text: "anything at all" },
      { given: true, text: ACME_CONSENT.text, version: "v0" },
      { given: true, text: "I agree to something else", version: ACME_CONSENT.version },
    ]) {
      const tag = `cons${unique()}`;
      const number = ukMobile();
      expect((await post(lead(tag, number, { consent }))).status).toBe(202);
      expect(await callsTo(number)).toBe(0);
      expect((await requestsMentioning("slack", tag)).some((m) => m.body.includes("no consent"))).toBe(true);
    }
  });

  it("takes the calling window from the number's country, not from the form's timezone", async () => {
    // 22:30 in London is 11:30 the next morning in Auckland: a UK number is still not called.
    const tag = `tz${unique()}`;
    const number = ukMobile();
    const res = await post(lead(tag, number, { timezone: "Pacific/Auckland" }), { nowMs: OUT_OF_HOURS_MS });
    expect(res.status).toBe(202);
    expect(await callsTo(number)).toBe(0);
    expect(
      (await requestsMentioning("slack", tag)).some((m) => m.body.includes("outside calling hours")),
    ).toBe(true);
  });

  it("escapes the submitter's words before they reach Slack", async () => {
    const tag = `esc${unique()}`;
    const res = await post(
      lead(tag, ukMobile(), { intent: `<!channel> <https://evil.example|win> & ${tag}` }),
    );
    expect(res.status).toBe(202);
    const messages = await requestsMentioning("slack", tag);
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) {
      const text = (JSON.parse(m.body) as { text: string }).text;
      expect(text).not.toContain("<!channel>");
      expect(text).not.toContain("<https://evil.example");
      expect(text).toContain("&lt;!channel&gt;");
    }
  });
});

describe("durable 202", () => {
  const shardStub = (leadId: string) =>
    env.EDGE_STATE.get(env.EDGE_STATE.idFromName(`edge:${shardOf(`lead:${leadId}`)}`));

  it("keeps the lead in the EdgeState outbox until its after-work lands, then forgets it", async () => {
    const res = await post(lead(`dur${unique()}`, ukMobile()));
    expect(res.status).toBe(202);
    const { lead_id: leadId } = (await res.json()) as { lead_id: string };
    const left = await runInDurableObject(shardStub(leadId), (_i, state) =>
      state.storage.get(`lead:${leadId}`),
    );
    expect(left).toBeUndefined();
  });

  it("retries a lead whose after-work never ran from the Durable Object's alarm, and a late retry never dials", async () => {
    const tag = `retry${unique()}`;
    const number = ukMobile();
    const leadId = crypto.randomUUID();
    const pending: PendingLead = {
      leadId,
      lead: {
        name: `Jo ${tag}`,
        email: `${tag}@example.com`,
        phone: number,
        intent: `quote ${tag}`,
        source: "contact-form",
        site_id: "acme",
        consent: { given: true, text: ACME_CONSENT.text, version: ACME_CONSENT.version },
      },
      siteId: "acme",
      site: { callingAllowed: true, flow: "outbound-booking", campaign: "spring", from: "+442071234567" },
      consent: ACME_CONSENT,
      timeZones: ["Europe/London"],
      requestOrigin: "https://agent.example",
      requestId: `req-${tag}`,
      // Accepted an hour ago and never processed (the Worker died after the 202).
      acceptedAtMs: Date.now() - 3_600_000,
    };
    const stub = shardStub(leadId);
    // Stored with its first retry a minute away (as the route does), then made due without the alarm firing.
    await stub.putLead(leadId, pending, Date.now() + 60_000);
    await runInDurableObject(stub, async (_i, state) => {
      const entry = await state.storage.get<OutboxEntry>(`lead:${leadId}`);
      if (entry !== undefined)
        await state.storage.put(`lead:${leadId}`, { ...entry, dueAtMs: Date.now() - 1 });
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await runInDurableObject(stub, (_i, state) =>
      state.storage.get<OutboxEntry>(`lead:${leadId}`),
    );
    expect(after).toBeUndefined();
    expect(await requestsMentioning("hubspot", `${tag}@example.com`)).not.toHaveLength(0);
    expect((await requestsMentioning("slack", tag)).some((m) => m.body.includes("too late"))).toBe(true);
    expect(await callsTo(number)).toBe(0);
  });
});
