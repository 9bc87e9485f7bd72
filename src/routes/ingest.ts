/**
 * `POST /api/ingest/lead`: web-form leads. Checks in order of cost: per-IP rate limit, body size and
 * JSON, the site and its origin, the honeypot (a silent 200), the schema (4xx with every reason),
 * the per-site rate limit and the idempotency key (a repeat gets the first answer). Then 202 at
 * once; CRM, alert, do-not-call check and speed to lead run in `waitUntil`. Nothing is written
 * before every check has passed.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { AppConfig, LeadSite } from "../config/config";
import { sha256Hex } from "../integrations/crypto";
import { type Lead, parseLead } from "../integrations/lead";
import { RequestAudit } from "../lead/audit";
import { businessClients, clockFor } from "../lead/clients";
import { type EdgePorts, edgePortsFor } from "../lead/edge-ports";
import type { StoredResponse } from "../lead/edge-store";
import { processLead } from "../lead/process-lead";
import { AppError } from "../lib/errors";
import { leadCorsHeaders, siteAllowsOrigin } from "./cors";

/** Largest lead body accepted. */
const MAX_BODY_BYTES = 16 * 1024;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;
/** A client-chosen key is honoured for a day; a derived one (same site, email, phone, intent) for 10 minutes. */
const EXPLICIT_KEY_TTL_SECONDS = 86_400;
const DERIVED_KEY_TTL_SECONDS = 600;
/** How long a first request may hold its key before a repeat may try again. */
const PENDING_TTL_SECONDS = 30;

async function rateLimit(
  c: { header(name: string, value: string): void },
  ports: EdgePorts,
  q: { key: string; max: number; what: string },
) {
  const r = await ports.limiter.limit(q.key, q.max, 60);
  if (r.allowed) return;
  const retryAfterSeconds = Math.max(1, Math.ceil((r.resetMs - Date.now()) / 1000));
  c.header("retry-after", String(retryAfterSeconds));
  const what = q.what;
  throw new AppError(
    429,
    "rate_limited",
    `Too many leads from this ${what}; retry in ${retryAfterSeconds} s`,
    {
      retryAfterSeconds,
    },
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

/** The site the body names, checked against the request origin; undefined when site_id is malformed (the schema reports it). */
function siteFor(config: AppConfig, body: unknown, origin: string | undefined): LeadSite | undefined {
  const siteId = (body as { site_id?: unknown } | null)?.site_id;
  if (typeof siteId !== "string" || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(siteId)) return undefined;
  const site = config.leads.sites[siteId];
  if (site === undefined) throw new AppError(403, "unknown_site", "site_id is not configured to post leads");
  if (!siteAllowsOrigin(site, origin)) {
    throw new AppError(403, "origin_not_allowed", "This origin may not post leads for this site");
  }
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
    const ip = c.req.header("cf-connecting-ip") ?? "unknown";
    await rateLimit(c, ports, {
      key: `lead-ip:${ip}`,
      max: config.leads.rateLimitIpPerMinute,
      what: "address",
    });

    const body = await readJson(c.req);
    const site = siteFor(config, body, c.req.header("origin"));
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
    if (site === undefined)
      throw new AppError(403, "unknown_site", "site_id is not configured to post leads");
    await rateLimit(c, ports, {
      key: `lead-site:${lead.site_id}`,
      max: config.leads.rateLimitSitePerMinute,
      what: "site",
    });

    const { key, ttlSeconds } = await replayKey(lead, c.req.header("idempotency-key"));
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
    try {
      await ports.replays.complete(key, response, ttlSeconds);
    } catch (err) {
      await ports.replays.abandon(key).catch(() => undefined);
      throw err;
    }
    const job = processLead({
      leadId,
      lead,
      site,
      config,
      clients: businessClients(config, { crmMs: 3_000, chatMs: 3_000, telephonyMs: 5_000 }),
      suppressions: ports.suppressions,
      audit: new RequestAudit(`req:${c.get("requestId")}`, log.child({ leadId })),
      log,
      requestOrigin: new URL(c.req.url).origin,
      nowMs,
    }).catch((err: unknown) => {
      log.error("lead background work failed", {
        leadId,
        error: err instanceof Error ? err.message : String(err),
      });
    });
    c.executionCtx.waitUntil(job);
    log.info("lead accepted", { leadId, siteId: lead.site_id });
    return c.json(response.body as Record<string, unknown>, 202);
  });
