/**
 * CORS for the lead endpoint, per site: a preflight is answered only for an origin some site lists
 * (403 otherwise); responses carry `Access-Control-Allow-Origin` only for such an origin; the
 * handler then checks that the origin belongs to the very site the body names.
 */
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { AppConfig, LeadSite } from "../config/config";
import { AppError } from "../lib/errors";

/** Headers a lead form may send. */
export const LEAD_ALLOWED_HEADERS = "content-type, idempotency-key";
/** How long a browser may cache a preflight. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** Whether any configured site lists the origin. */
export function isKnownOrigin(config: AppConfig, origin: string): boolean {
  return Object.values(config.leads.sites).some((s) => s.origins.includes(origin));
}

/** Whether the site lists the origin. A request without `Origin` (server to server) is not a browser: allowed. */
export function siteAllowsOrigin(site: LeadSite, origin: string | undefined): boolean {
  return origin === undefined || site.origins.includes(origin);
}

/** Adds CORS response headers for a known origin, on every response of the route (errors included). */
export const leadCorsHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const origin = c.req.header("origin");
  c.res.headers.append("vary", "Origin");
  if (origin !== undefined && isKnownOrigin(c.get("config"), origin)) {
    c.res.headers.set("access-control-allow-origin", origin);
    c.res.headers.set("access-control-expose-headers", "retry-after, idempotent-replayed");
  }
};

/** Preflight for `POST /api/ingest/lead`. */
export const corsRoutes = new Hono<AppEnv>().options("/api/ingest/lead", (c) => {
  const origin = c.req.header("origin");
  if (origin === undefined || !isKnownOrigin(c.get("config"), origin)) {
    throw new AppError(403, "origin_not_allowed", "This origin may not post leads");
  }
  const method = c.req.header("access-control-request-method");
  if (method !== undefined && method.toUpperCase() !== "POST") {
    throw new AppError(405, "method_not_allowed", "Only POST is allowed");
  }
  return c.body(null, 204, {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": LEAD_ALLOWED_HEADERS,
    "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
    vary: "Origin",
  });
});
