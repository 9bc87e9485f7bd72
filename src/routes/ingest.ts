/**
 * `POST /api/ingest/lead`: web-form and CRM leads. Checks in order of cost: per-IP rate limit, body
 * size and JSON, the site and how the post came (browser: listed Origin; CRM: the site's bearer
 * token), the honeypot (a silent 200), the schema (4xx with every reason), the number policy
 * (country and numbering-plan type), the per-site rate limit, the Turnstile check (browser posts),
 * the idempotency key (a repeat gets the first answer), then per-number and per-site daily caps.
 * The lead is written to the durable outbox (EdgeState) before the 202; its after-work (CRM, alert,
 * do-not-call check, speed to lead) runs at once in `waitUntil` and is retried by the Durable
 * Object's alarm until it lands. Nothing is written before every check has passed.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { AppConfig, LeadSite } from "../config/config";
import { sha256Hex } from "../integrations/crypto";
import { type Lead, parseLead } from "../integrations/lead";
import { createTurnstileClient } from "../integrations/turnstile";
import { clockFor } from "../lead/clients";
import { type EdgePorts, edgePortsFor } from "../lead/edge-ports";
import type { StoredResponse } from "../lead/edge-store";
import { admitChannel, checkBot, consentFor, uuidFromHex } from "../lead/lead-admission";
import { OUTBOX_FIRST_RETRY_MS, type PendingLead, runPendingLead, storableLead } from "../lead/lead-outbox";
import { callingZones, checkNumber } from "../lead/number-policy";
import { AppError } from "../lib/errors";
import { leadCorsHeaders } from "./cors";

/** Largest lead body accepted. */
const MAX_BODY_BYTES = 16 * 1024;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;
/** A client-chosen key is honoured for a day; a derived one (same site, email, phone, intent) for 10 minutes. */
const EXPLICIT_KEY_TTL_SECONDS = 86_400;
const DERIVED_KEY_TTL_SECONDS = 600;
/** How long a first request may hold its key before a repeat may try again. */
const PENDING_TTL_SECONDS = 30;
/** Leads accepted per number per day, whatever the site, email or intent: a form cannot be a dialler. */
const NUMBER_CAP = { max: 2, windowSeconds: 86_400 } as const;
const DAY_SECONDS = 86_400;

async function rateLimit(
  c: { header(name: string, value: string): void },
  ports: EdgePorts,
  q: { key: string; max: number; what: string; windowSeconds?: number; code?: string },
) {
  const r = await ports.limiter.limit(q.key, q.max, q.windowSeconds ?? 60);
  if (r.allowed) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((r.resetMs - Date.now()) / 1000));
  c.header("retry-after", String(retryAfterSeconds));
  throw new AppError(
    429,
    q.code ?? "rate_limited",
    `Too many leads ${q.what}; retry in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );
}

async function readJson(req: { header(n: string): string | undefined; text(): Promise<string> }) {
  const type = req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  if (Number(req.header("content-length") ?? "0") > MAX_BODY_BYTES) {
    throw new AppError(413, "body_too_large", `Body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  const raw = await req.text();
  if (raw.length > MAX_BODY_BYTES) {
    throw new AppError(413, "body_too_large", `Body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new AppError(400, "bad_json", "Body must be a JSON object");
  }
}

/** The site the body names; undefined when site_id is malformed (the schema reports it). */
function siteFor(config: AppConfig, body: unknown): LeadSite | undefined {
  const siteId = (body as { site_id?: unknown } | null)?.site_id;
  if (typeof siteId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(siteId)) return undefined;
  const site = config.leads.sites[siteId];
  if (site === undefined) throw new AppError(403, "unknown_site", "site_id is not configured to post leads");
  return site;
}

function isHoneypotFilled(body: unknown): boolean {
  const v = (body as { website?: unknown } | null)?.website;
  return v !== undefined && v !== null && v !== "";
}

async function replayKey(
  lead: Lead,
  header: string | undefined,
): Promise<{ key: string; ttlSeconds: number }> {
  const explicit = header ?? lead.idempotency_key;
  if (explicit !== undefined) {
    if (!IDEMPOTENCY_KEY.test(explicit)) {
      throw new AppError(400, "bad_idempotency_key", "Idempotency-Key must be 8-128 letters, digits or _.:-");
    }
    return { key: `lead:${lead.site_id}:k:${explicit}`, ttlSeconds: EXPLICIT_KEY_TTL_SECONDS };
  }
  const digest = await sha256Hex(JSON.stringify([lead.site_id, lead.email, lead.phone, lead.intent]));
  return { key: `lead:${lead.site_id}:d:${digest}`, ttlSeconds: DERIVED_KEY_TTL_SECONDS };
}

export const ingestRoutes = new Hono<AppEnv>()
  .use("/api/ingest/lead", leadCorsHeaders)
  .post("/api/ingest/lead", async (c) => {
    const config = c.get("config");
    const log = c.get("log");
    const nowMs = clockFor(config)();
    const ports = edgePortsFor(config, c.env);
    const ipHeader = c.req.header("cf-connecting-ip");
    const ip = ipHeader ?? "unknown";
    await rateLimit(c, ports, {
      key: `lead-ip:${ip}`,
      max: config.leads.rateLimitIpPerMinute,
      what: "from this address",
    });

    const body = await readJson(c.req);
    const site = siteFor(config, body);
    const channel =
      site === undefined
        ? undefined
        : admitChannel(site, {
            origin: c.req.header("origin"),
            authorization: c.req.header("authorization"),
            remoteIp: ipHeader,
          });
    if (isHoneypotFilled(body)) {
      // Look like success so a bot learns nothing; do nothing at all.
      log.info("lead honeypot filled; dropped", { ip });
      return c.json({ ok: true }, 200);
    }
    const parsed = parseLead(body);
    if (!parsed.ok) {
      const first = parsed.issues[0];
      throw new AppError(422, "invalid_lead", first?.message ?? "invalid lead", parsed.issues);
    }
    const lead = parsed.lead;
    if (site === undefined || channel === undefined)
      throw new AppError(403, "unknown_site", "site_id is not configured to post leads");
    const number = checkNumber(lead.phone, site.numbers);
    if (!number.ok) {
      throw new AppError(422, number.reason, number.message, [{ path: "phone", message: number.message }]);
    }
    await rateLimit(c, ports, {
      key: `lead-site:${lead.site_id}`,
      max: config.leads.rateLimitSitePerMinute,
      what: "for this site",
    });

    const { key, ttlSeconds } = await replayKey(lead, c.req.header("idempotency-key"));
    if (channel === "browser") {
      // Before the replay lookup, so a stored answer is only ever given to a post that passed the check;
      // siteverify's own idempotency key lets a retried post pass again with its (single-use) token.
      await checkBot(site, lead, createTurnstileClient({ baseUrl: config.leads.turnstileBaseUrl }), {
        remoteIp: ipHeader,
        idempotencyKey: uuidFromHex(await sha256Hex(key)),
      });
    }
    const found = await ports.replays.begin(key, PENDING_TTL_SECONDS);
    if (found.state === "pending") {
      c.header("retry-after", "1");
      throw new AppError(
        409,
        "request_in_progress",
        "The first request with this key is still being handled",
      );
    }
    if (found.state === "done") {
      c.header("idempotent-replayed", "true");
      return c.json(found.response.body as Record<string, unknown>, found.response.status as 202);
    }

    const leadId = crypto.randomUUID();
    const response: StoredResponse = { status: 202, body: { accepted: true, lead_id: leadId } };
    const pending: PendingLead = {
      leadId,
      lead: storableLead(lead),
      siteId: lead.site_id,
      site: {
        callingAllowed: site.callingAllowed,
        flow: site.flow,
        campaign: site.campaign,
        from: site.from,
      },
      consent: consentFor(site, lead.consent),
      timeZones: callingZones(number.facts.country, lead.timezone),
      requestOrigin: new URL(c.req.url).origin,
      requestId: c.get("requestId"),
      acceptedAtMs: nowMs,
    };
    try {
      await rateLimit(c, ports, {
        // By hash: the window lives a day in EdgeState or Redis, where no plain number is kept.
        key: `lead-number:${await sha256Hex(number.facts.e164)}`,
        max: NUMBER_CAP.max,
        windowSeconds: NUMBER_CAP.windowSeconds,
        what: "for this number today",
        code: "number_cap",
      });
      await rateLimit(c, ports, {
        key: `lead-site-day:${lead.site_id}`,
        max: site.dailyCap,
        windowSeconds: DAY_SECONDS,
        what: "for this site today",
        code: "site_daily_cap",
      });
      // Durable before the answer: the outbox keeps the lead until its after-work lands.
      await ports.outbox.put(leadId, pending, Date.now() + OUTBOX_FIRST_RETRY_MS);
      await ports.replays.complete(key, response, ttlSeconds);
    } catch (err) {
      await ports.replays.abandon(key).catch(() => undefined);
      if (err instanceof AppError) throw err;
      log.error("lead could not be stored", { error: err instanceof Error ? err.message : String(err) });
      throw new AppError(503, "lead_not_stored", "The lead could not be stored; retry shortly");
    }
    const job = runPendingLead(pending, {
      config,
      suppressions: ports.suppressions,
      callVars: ports.callVars,
      callClaims: ports.claims,
      log,
      nowMs,
    })
      .then(async (result) => {
        if (result.landed) await ports.outbox.finish(leadId);
      })
      .catch((err: unknown) => {
        // Left in the outbox: the EdgeState alarm retries it.
        log.error("lead background work failed", {
          leadId,
          error: err instanceof Error ? err.message : String(err),
        });
      });
    c.executionCtx.waitUntil(job);
    log.info("lead accepted", { leadId, siteId: lead.site_id, channel });
    return c.json(response.body as Record<string, unknown>, 202);
  });
