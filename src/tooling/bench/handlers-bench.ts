/**
 * Business-handler benchmark (Node): p95 latency of the booking webhook, the slots endpoint and lead
 * ingest (the 202, and the background work behind it) with every provider emulator answering after
 * a fixed delay. The route groups run in a Hono app in-process, the edge state in memory, no database.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { LOCAL_CREDENTIALS } from "../../config/config";
import { configFor, loggerFor } from "../../config/context";
import { computeCalSignature } from "../../integrations/calcom";
import { memoryEdgeNamespace } from "../../lead/edge-ports";
import { AppError } from "../../lib/errors";
import { bookingRoutes } from "../../routes/booking";
import { corsRoutes } from "../../routes/cors";
import { ingestRoutes } from "../../routes/ingest";
import { slotsRoutes } from "../../routes/slots";
import { startCalcomEmulator } from "../emulators/calcom";
import { startHubspotEmulator } from "../emulators/hubspot";
import { startSlackEmulator } from "../emulators/slack";
import {
  startTurnstileEmulator,
  TURNSTILE_DUMMY_TOKEN,
  TURNSTILE_TEST_SECRETS,
} from "../emulators/turnstile";
import { startTwilioEmulator } from "../emulators/twilio";

/** One reported figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

/** Delay every emulated provider adds to each call. */
const PROVIDER_DELAY_MS = 80;
const RUNS = 40;
const WARMUP = 3;
const SITE_ORIGIN = "https://www.bench.example";
const BENCH_CONSENT = { version: "bench-1", text: "Call me about my quote" };

function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))] ?? 0;
}

/** The Worker's middleware and error mapping around the business route groups. */
function benchApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const config = configFor(c.env);
    c.set("config", config);
    c.set("requestId", crypto.randomUUID());
    c.set("log", loggerFor(config, { route: c.req.path }));
    await next();
  });
  app.route("/", bookingRoutes);
  app.route("/", slotsRoutes);
  app.route("/", corsRoutes);
  app.route("/", ingestRoutes);
  app.onError((err, c) =>
    err instanceof AppError
      ? c.json({ error: { code: err.code, message: err.message } }, err.status)
      : c.json({ error: { code: "internal", message: err.message } }, 500),
  );
  return app;
}

/** A fake ExecutionContext that keeps `waitUntil` promises so the bench can time them. */
function executionContext(): { ctx: ExecutionContext; settled: () => Promise<void> } {
  const pending: Promise<unknown>[] = [];
  const ctx = {
    waitUntil: (p: Promise<unknown>) => {
      pending.push(p);
    },
    passThroughOnException: () => undefined,
    props: {},
  } as unknown as ExecutionContext;
  return {
    ctx,
    settled: async () => {
      await Promise.allSettled(pending);
    },
  };
}

async function timed(
  fn: (i: number) => Promise<{ res: Response; settled: () => Promise<void> }>,
  expectStatus: number,
): Promise<{ responseMs: number[]; completeMs: number[] }> {
  const responseMs: number[] = [];
  const completeMs: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const { res, settled } = await fn(i);
    const t1 = performance.now();
    await settled();
    const t2 = performance.now();
    if (res.status !== expectStatus) {
      throw new Error(`bench request answered ${res.status}: ${await res.text()}`);
    }
    if (i >= WARMUP) {
      responseMs.push(t1 - t0);
      completeMs.push(t2 - t0);
    }
  }
  return { responseMs, completeMs };
}

/** Run the benchmark and report p95 handler latency per endpoint, in milliseconds. */
export async function runHandlersBench(): Promise<BenchResult[]> {
  const L = LOCAL_CREDENTIALS;
  const latencyMs = PROVIDER_DELAY_MS;
  const webhookPath = "/services/T000LOCAL/B000LOCAL/local";
  const [calcom, hubspot, slack, twilio, turnstile] = await Promise.all([
    startCalcomEmulator({ apiKey: L.calcom, latencyMs }),
    startHubspotEmulator({ accessToken: L.hubspot, latencyMs }),
    startSlackEmulator({ webhookPath, botToken: L.slack, latencyMs }),
    startTwilioEmulator({ accountSid: L.twilioAccountSid, authToken: L.twilioAuthToken, latencyMs }),
    startTurnstileEmulator({ latencyMs }),
  ]);
  try {
    const env = {
      // The emulators accept only their stand-in credentials: chosen explicitly, as npm run dev does.
      LOCAL_STAND_INS: "true",
      LOG_LEVEL: "error",
      PUBLIC_BASE_URL: "https://agent.example",
      CALCOM_BASE_URL: calcom.url,
      HUBSPOT_BASE_URL: hubspot.url,
      SLACK_BASE_URL: slack.url,
      TWILIO_API_BASE_URL: twilio.url,
      TWILIO_FROM_NUMBER: "+442071234567",
      TURNSTILE_BASE_URL: turnstile.url,
      LEAD_SITES: JSON.stringify({
        bench: {
          origins: [SITE_ORIGIN],
          callingAllowed: true,
          turnstileSecret: TURNSTILE_TEST_SECRETS.alwaysPasses,
          consent: BENCH_CONSENT,
          dailyCap: 100_000,
        },
      }),
      LEAD_RATE_LIMIT_IP_PER_MINUTE: "100000",
      LEAD_RATE_LIMIT_SITE_PER_MINUTE: "100000",
      SLOTS_RATE_LIMIT_IP_PER_MINUTE: "100000",
      ALLOW_CLOCK_OVERRIDE: "true",
      // A Tuesday at 10:00 in London: inside the calling window, so every lead is dialled.
      CLOCK_OVERRIDE_MS: String(Date.parse("2026-12-01T10:00:00Z")),
      EDGE_STATE: memoryEdgeNamespace(),
    };
    const app = benchApp();
    const send = async (path: string, init: RequestInit = {}) => {
      const { ctx, settled } = executionContext();
      const res = await app.request(path, init, env, ctx);
      return { res, settled };
    };

    const booking = await timed(async (i) => {
      const uid = `bench${i}${crypto.randomUUID().slice(0, 8)}`;
      const body = JSON.stringify({
        triggerEvent: "BOOKING_CREATED",
        payload: {
          uid,
          startTime: "2026-12-03T10:00:00.000Z",
          endTime: "2026-12-03T10:30:00.000Z",
          attendees: [{ name: "Jo Bloggs", email: `${uid}@example.com`, timeZone: "Europe/London" }],
        },
      });
      const signature = await computeCalSignature(body, L.calcomWebhook);
      return send("/webhooks/booking", {
        method: "POST",
        headers: { "content-type": "application/json", "x-cal-signature-256": signature },
        body,
      });
    }, 200);

    const slots = await timed(() => send("/api/slots?owner_id=host&timezone=Europe/London"), 200);

    const lead = await timed(
      (i) =>
        send("/api/ingest/lead", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            origin: SITE_ORIGIN,
            "cf-connecting-ip": "192.0.2.1",
          },
          body: JSON.stringify({
            name: `Jo Bench${i}`,
            email: `lead${i}-${crypto.randomUUID().slice(0, 8)}@example.com`,
            phone: `+4474009${String(10_000 + i).padStart(5, "0")}`,
            intent: "quote",
            source: "bench",
            site_id: "bench",
            consent: { given: true, ...BENCH_CONSENT },
            turnstile_token: TURNSTILE_DUMMY_TOKEN,
          }),
        }),
      202,
    );

    // Bad leads: each must be refused with a 4xx and ring nobody.
    const badLead = (phone: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        name: "Jo Bad",
        email: `bad-${crypto.randomUUID().slice(0, 8)}@example.com`,
        phone,
        intent: "quote",
        source: "bench",
        site_id: "bench",
        consent: { given: true, ...BENCH_CONSENT },
        turnstile_token: TURNSTILE_DUMMY_TOKEN,
        ...extra,
      });
    const browser = {
      "content-type": "application/json",
      origin: SITE_ORIGIN,
      "cf-connecting-ip": "192.0.2.2",
    };
    const bad: { headers: Record<string, string>; body: string; phone: string }[] = [
      {
        headers: { "content-type": "application/json" },
        body: badLead("+447400800001"),
        phone: "+447400800001",
      },
      {
        headers: browser,
        body: badLead("+447400800002", { turnstile_token: "forged" }),
        phone: "+447400800002",
      },
      { headers: browser, body: badLead("+449098790000"), phone: "+449098790000" },
      { headers: browser, body: badLead("+447012345678"), phone: "+447012345678" },
      { headers: browser, body: badLead("+448711234567"), phone: "+448711234567" },
      { headers: browser, body: badLead("+12025550123"), phone: "+12025550123" },
      { headers: browser, body: badLead("+447400800003", { name: "<!channel>" }), phone: "+447400800003" },
      {
        headers: browser,
        body: badLead("+447400800004", { intent: "x".repeat(20_000) }),
        phone: "+447400800004",
      },
    ];
    let refused = 0;
    for (const b of bad) {
      const { res, settled } = await send("/api/ingest/lead", {
        method: "POST",
        headers: b.headers,
        body: b.body,
      });
      await settled;
      if (res.status >= 400 && res.status < 500) refused++;
    }
    const badNumbers = new Set(bad.map((b) => encodeURIComponent(b.phone)));
    const badCalls = twilio
      .requests()
      .filter(
        (r) => r.path.endsWith("/Calls.json") && [...badNumbers].some((n) => r.body.includes(n)),
      ).length;

    const ms = (v: number) => Math.round(v * 10) / 10;
    return [
      { name: "handlers.booking_webhook_p95", value: ms(p95(booking.responseMs)), unit: "ms" },
      { name: "handlers.slots_p95", value: ms(p95(slots.responseMs)), unit: "ms" },
      { name: "handlers.lead_ingest_response_p95", value: ms(p95(lead.responseMs)), unit: "ms" },
      { name: "handlers.lead_ingest_background_p95", value: ms(p95(lead.completeMs)), unit: "ms" },
      { name: "handlers.provider_delay", value: PROVIDER_DELAY_MS, unit: "ms" },
      { name: "handlers.lead_bad_tried", value: bad.length, unit: "count" },
      { name: "handlers.lead_bad_refused", value: refused, unit: "count" },
      { name: "handlers.lead_bad_calls_placed", value: badCalls, unit: "count" },
    ];
  } finally {
    await Promise.all([calcom.close(), hubspot.close(), slack.close(), twilio.close(), turnstile.close()]);
  }
}
