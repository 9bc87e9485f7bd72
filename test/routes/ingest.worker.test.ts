import { env } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseLead } from "../../src/integrations/lead";
import {
  ACME_CONSENT,
  callApp,
  IN_HOURS_MS,
  OUT_OF_HOURS_MS,
  requestsMentioning,
  SITE_ORIGIN,
  sql,
  TURNSTILE_DUMMY_TOKEN,
  testBindings,
  unique,
} from "./business-support";

function lead(tag: string, phone: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Jo ${tag}`,
    email: `${tag}@example.com`,
    phone,
    intent: `windows quote ${tag}`,
    source: "contact-form",
    site_id: "acme",
    consent: { given: true, text: ACME_CONSENT.text, version: ACME_CONSENT.version },
    timezone: "Europe/London",
    turnstile_token: TURNSTILE_DUMMY_TOKEN,
    ...extra,
  };
}

/**
 * A random allocated UK mobile (07400 block), unique enough per test. Ofcom's drama range is not
 * allocated, so the number policy refuses it; only the emulators ever see these numbers.
 */
function phone(): string {
  return `+447400${String(Math.floor(Math.random() * 900_000) + 100_000)}`;
}

function postLead(
  body: unknown,
  opts: {
    nowMs?: number;
    ip?: string;
    headers?: Record<string, string>;
    bindings?: Record<string, string>;
  } = {},
) {
  return callApp(
    "/api/ingest/lead",
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: SITE_ORIGIN,
        "cf-connecting-ip": opts.ip ?? `203.0.113.${Math.floor(Math.random() * 250)}`,
        ...opts.headers,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    },
    testBindings({
      ALLOW_CLOCK_OVERRIDE: "true",
      CLOCK_OVERRIDE_MS: String(opts.nowMs ?? IN_HOURS_MS),
      LEAD_RATE_LIMIT_IP_PER_MINUTE: "1000",
      ...opts.bindings,
    }),
  );
}

async function callsTo(number: string) {
  return (await requestsMentioning("twilio", number)).filter((r) => r.path.endsWith("/Calls.json"));
}

describe("CORS for POST /api/ingest/lead", () => {
  it("answers a preflight from a configured site's origin", async () => {
    const res = await callApp("/api/ingest/lead", {
      method: "OPTIONS",
      headers: { origin: SITE_ORIGIN, "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    expect(res.headers.get("access-control-allow-headers")).toContain("idempotency-key");
  });

  it("refuses a preflight from an unknown origin, and a post from another site's origin", async () => {
    const res = await callApp("/api/ingest/lead", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const tag = `cors${unique()}`;
    const wrong = await postLead(lead(tag, phone(), { site_id: "quiet" }));
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: "origin_not_allowed" } });
  });
});

describe("POST /api/ingest/lead", () => {
  it("answers 202 at once, then writes the CRM, alerts with the CRM link and queues the call in hours", async () => {
    const tag = `happy${unique()}`;
    const number = phone();
    const res = await postLead(lead(tag, number));
    expect(res.status).toBe(202);
    expect(res.headers.get("access-control-allow-origin")).toBe(SITE_ORIGIN);
    const { lead_id: leadId } = (await res.json()) as { lead_id: string };
    const calls = await callsTo(number);
    expect(calls).toHaveLength(1);
    const form = new URLSearchParams(calls[0]?.body ?? "");
    const voice = new URL(form.get("Url") ?? "");
    expect(voice.pathname).toBe("/twilio/voice");
    expect(voice.searchParams.get("flow")).toBe("outbound-booking");
    // Only the lead's id: its name and email wait server-side for the call (Twilio logs this URL).
    expect(voice.searchParams.get("var_lead_id")).toBe(leadId);
    expect(voice.searchParams.get("var_first_name")).toBeNull();
    expect(voice.searchParams.get("var_email")).toBeNull();
    expect(voice.searchParams.get("var_lead_source")).toBe("your enquiry on our website");
    expect(voice.searchParams.get("campaign")).toBe("spring");
    expect(form.get("AsyncAmd")).toBe("true");
    expect(form.get("AsyncAmdStatusCallback")).toBe("https://agent.example/twilio/amd");
    expect(form.get("StatusCallback")).toBe("https://agent.example/twilio/status");
    expect(await requestsMentioning("hubspot", `${tag}@example.com`)).not.toHaveLength(0);
    const alerts = await requestsMentioning("slack", tag);
    expect(alerts.some((a) => a.body.includes("/contacts/") && a.body.includes("calling now"))).toBe(true);
    const rows = await sql<{ crm_contact_id: string | null; call_sid: string | null }>(
      "SELECT crm_contact_id, call_sid FROM leads WHERE id = $1",
      [leadId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.crm_contact_id).toBeTruthy();
    expect(rows[0]?.call_sid).toMatch(/^CA/);
  });

  it("routes an out-of-hours lead to the Slack queue instead of calling", async () => {
    const tag = `night${unique()}`;
    const number = phone();
    expect((await postLead(lead(tag, number), { nowMs: OUT_OF_HOURS_MS })).status).toBe(202);
    expect(await callsTo(number)).toHaveLength(0);
    const queued = await requestsMentioning("slack", tag);
    expect(
      queued.some((q) => q.body.includes("[lead-queue]") && q.body.includes("outside calling hours")),
    ).toBe(true);
  });

  it("never queues a call to a suppressed number (embedded set or Postgres)", async () => {
    const embedded = phone();
    await env.EDGE_STATE.get(env.EDGE_STATE.idFromName("suppressions")).addSuppression(embedded, "test");
    const durable = phone();
    await sql("INSERT INTO suppressions (id, phone, source, at) VALUES ($1, $2, 'call', now())", [
      crypto.randomUUID(),
      durable,
    ]);
    for (const number of [embedded, durable]) {
      const tag = `dnc${unique()}`;
      expect((await postLead(lead(tag, number))).status).toBe(202);
      expect(await callsTo(number)).toHaveLength(0);
      expect((await requestsMentioning("slack", tag)).some((m) => m.body.includes("do-not-call"))).toBe(true);
    }
  });

  it("replays the first answer for a repeated idempotency key and does the work once", async () => {
    const tag = `idem${unique()}`;
    const number = phone();
    const headers = { "idempotency-key": `form-${tag}` };
    const first = await postLead(lead(tag, number), { headers });
    const second = await postLead(lead(tag, number), { headers });
    expect(second.status).toBe(202);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.json()).toEqual(await first.json());
    expect(await callsTo(number)).toHaveLength(1);
  });

  it("answers a filled honeypot with 200 and does nothing", async () => {
    const tag = `bot${unique()}`;
    const res = await postLead(lead(tag, phone(), { website: "http://spam.example" }));
    expect(res.status).toBe(200);
    for (const emulator of ["hubspot", "slack", "twilio"]) {
      expect(await requestsMentioning(emulator, tag)).toHaveLength(0);
    }
  });

  it("limits posts per IP with a 429 and Retry-After", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const bindings = { LEAD_RATE_LIMIT_IP_PER_MINUTE: "3" };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postLead(lead(`rl${unique()}`, phone(), { consent: { given: false, text: "" } }), {
        ip,
        bindings,
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
      }
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
  });

  it("answers 1,000 generated bad payloads with a 4xx and a reason, and writes nothing anywhere", async () => {
    const marker = `fuzz${unique()}`;
    const valid = lead(marker, "+447700900123");
    const corrupt = fc.oneof(
      fc.constantFrom("name", "email", "phone", "intent", "source", "site_id", "consent").map((k) => {
        const { [k]: _drop, ...rest } = valid;
        return rest;
      }),
      fc
        .record({ k: fc.constantFrom("email", "phone", "timezone", "consent", "name"), v: fc.anything() })
        .map(({ k, v }) => ({ ...valid, [k]: v })),
      fc.string().map((s) => ({ ...valid, email: `${s}-not-an-email` })),
      fc.string({ maxLength: 6 }).map((s) => ({ ...valid, phone: `12${s}` })),
      fc.constantFrom("Mars/Olympus", "UTC+99", "../etc").map((tz) => ({ ...valid, timezone: tz })),
      fc.constant({ ...valid, consent: { given: true, text: "" } }),
      fc.constantFrom("[]", "null", '"lead"', "{", "42"),
    );
    const samples = fc.sample(corrupt, { numRuns: 1_000, seed: 7 });
    let sent = 0;
    for (let i = 0; i < samples.length; i += 25) {
      const batch = samples.slice(i, i + 25).filter((b) => typeof b === "string" || !parseLead(b).ok);
      const replies = await Promise.all(batch.map((b) => postLead(b)));
      for (const r of replies) {
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        const body = (await r.json()) as { error?: { message?: string } };
        expect(body.error?.message?.length ?? 0).toBeGreaterThan(0);
      }
      sent += batch.length;
    }
    expect(sent).toBeGreaterThan(900);
    for (const emulator of ["hubspot", "slack", "twilio"]) {
      expect(await requestsMentioning(emulator, marker)).toHaveLength(0);
    }
    expect(await sql("SELECT id FROM leads WHERE email LIKE $1", [`${marker}%`])).toHaveLength(0);
  });
});
