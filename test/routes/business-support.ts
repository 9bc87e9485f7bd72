/** Helpers for the business-function route tests: the app with per-test bindings, emulator state, SQL. */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { inject } from "vitest";
import { app } from "../../src/index";
import { neonConnect } from "../../src/store/neon";

export const ORIGIN = "https://agent.example";
export const SITE_ORIGIN = "https://www.acme-windows.example";
export const urls = inject("emulatorUrls");

/** Cloudflare's documented always-passing Turnstile test secret, and the dummy token it accepts. */
export const TURNSTILE_PASS_SECRET = "1x0000000000000000000000000000000AA";
export const TURNSTILE_DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";
/** The consent wording the acme form shows, by version. */
export const ACME_CONSENT = { version: "v1", text: "Call me about my quote" };
/** Bearer token of the server-to-server (CRM) site. */
export const CRM_SERVER_TOKEN = "crm-test-token-0123456789abcdef0123456789";

/** Sites used by the tests: one that calls, one that never does, one a CRM posts to. */
export const LEAD_SITES = {
  acme: {
    origins: [SITE_ORIGIN],
    campaign: "spring",
    callingAllowed: true,
    turnstileSecret: TURNSTILE_PASS_SECRET,
    consent: ACME_CONSENT,
  },
  quiet: { origins: ["https://quiet.example"], callingAllowed: false },
  crm: { callingAllowed: true, serverToken: CRM_SERVER_TOKEN, consent: ACME_CONSENT },
  crmcap: { callingAllowed: true, serverToken: CRM_SERVER_TOKEN, consent: ACME_CONSENT, dailyCap: 3 },
};

/** Tuesday 1 December 2026, 10:00 in London: inside the UK calling window. */
export const IN_HOURS_MS = Date.parse("2026-12-01T10:00:00Z");
/** The same day at 22:30: outside it. */
export const OUT_OF_HOURS_MS = Date.parse("2026-12-01T22:30:00Z");

/** Bindings every business test uses (HubSpot runs on its local credential, as in `npm run dev`). */
export function testBindings(extra: Record<string, string> = {}): Record<string, unknown> {
  return {
    ...env,
    LEAD_SITES: JSON.stringify(LEAD_SITES),
    TWILIO_FROM_NUMBER: "+442071234567",
    PUBLIC_BASE_URL: ORIGIN,
    ...extra,
  };
}

/** Call the Worker with these bindings and wait for its `waitUntil` work. */
export async function callApp(
  path: string,
  init: RequestInit = {},
  bindings: Record<string, unknown> = testBindings(),
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

interface RecordedRequest {
  method: string;
  path: string;
  body: string;
}

/** Requests an emulator received whose body mentions `marker`. */
export async function requestsMentioning(emulator: string, marker: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${urls[emulator]}/__emulator/requests`);
  const all = (await res.json()) as RecordedRequest[];
  return all.filter((r) => r.body.includes(marker) || decodeURIComponent(r.body).includes(marker));
}

/** An emulator's state snapshot. */
export async function emulatorState<T>(emulator: string): Promise<T> {
  return (await (await fetch(`${urls[emulator]}/__emulator/state`)).json()) as T;
}

/** One query against the test database. */
export async function sql<Row>(text: string, params: unknown[] = []): Promise<Row[]> {
  const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };
  const { session, release } = await neonConnect({
    databaseUrl: e.DATABASE_URL,
    wsProxyUrl: e.NEON_WS_PROXY,
  })();
  try {
    return (await session.query<Row>(text, params)).rows;
  } finally {
    await release();
  }
}

/** A short unique suffix for names, emails and uids. */
export function unique(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 12);
}
