/**
 * `GET /api/slots?owner_id&timezone&horizon_days`: the owner's calendar availability, kept to
 * working hours in the callee's zone, the first two slots with their spoken phrasing. Answers
 * within 2 s: a slow calendar is a 504 the caller can branch on, never a hang.
 *
 * No token: the caller is a booking widget on a public page, and anything a browser holds is public,
 * so a token would stop nobody. What needs protecting is the Cal.com quota (every request is one API
 * call) and the owners' availability from bulk scraping, so requests are limited per client address
 * (SLOTS_RATE_LIMIT_IP_PER_MINUTE, a hash of the address as key) through the same edge-state limiter
 * as lead ingest: 429 with Retry-After beyond it, checked before anything else is done.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import type { AppConfig } from "../config/config";
import { formatSlotForSpeech } from "../flow/time";
import { isValidTimeZone } from "../integrations/lead";
import { pickSlots } from "../integrations/slots";
import { businessClients, clockFor } from "../lead/clients";
import { edgePortsFor } from "../lead/edge-ports";
import { AppError, ProviderError } from "../lib/errors";
import { clientAddressKey } from "./client-address";
import { requireConfigured } from "./require-config";

/** Budget for the calendar, inside the 2 s answer. */
const CALENDAR_BUDGET_MS = 1_700;
/** A slot must be at least this far ahead to be offered. */
const MIN_NOTICE_MS = 3_600_000;

/** Query of `GET /api/slots`. */
export const slotsQuerySchema = z.object({
  owner_id: z
    .string({ error: "owner_id is required" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "owner_id must be 1-64 letters, digits, _ or -" }),
  timezone: z
    .string()
    .refine(isValidTimeZone, { error: "timezone must be an IANA zone such as Europe/London" })
    .optional(),
  horizon_days: z.coerce
    .number({ error: "horizon_days must be a whole number of days" })
    .int({ error: "horizon_days must be a whole number of days" })
    .min(1, { error: "horizon_days must be between 1 and 31" })
    .max(31, { error: "horizon_days must be between 1 and 31" })
    .default(7),
});

/** The event type whose availability is the owner's. */
export function eventTypeForOwner(config: AppConfig, ownerId: string): number {
  const owners = config.calcomOwners;
  if (Object.keys(owners).length === 0) return config.calcom.eventTypeId;
  const id = owners[ownerId];
  if (id === undefined) throw new AppError(404, "unknown_owner", "owner_id has no calendar here");
  return id;
}

export const slotsRoutes = new Hono<AppEnv>();

slotsRoutes.use("/api/slots", requireConfigured("calendar"));

slotsRoutes.get("/api/slots", async (c) => {
  const config = c.get("config");
  const limit = await edgePortsFor(config, c.env).limiter.limit(
    await clientAddressKey("slots-ip", c.req),
    config.slotsRateLimitIpPerMinute,
    60,
  );
  if (!limit.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil((limit.resetMs - Date.now()) / 1000));
    c.header("retry-after", String(retryAfterSeconds));
    throw new AppError(
      429,
      "rate_limited",
      `Too many availability requests; retry in ${retryAfterSeconds} s`,
      {
        retryAfterSeconds,
      },
    );
  }
  const q = slotsQuerySchema.safeParse(c.req.query());
  if (!q.success) {
    const issues = q.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
    throw new AppError(400, "bad_query", issues[0]?.message ?? "invalid query", issues);
  }
  const { owner_id: ownerId, horizon_days: horizonDays } = q.data;
  const timeZone = q.data.timezone ?? config.defaultTimeZone;
  const eventTypeId = eventTypeForOwner(config, ownerId);
  const nowMs = clockFor(config)();
  const { calendar } = businessClients(config, { calendarMs: 1_200 });
  let starts: string[];
  try {
    const slots = await calendar.getSlots(
      {
        eventTypeId,
        start: new Date(nowMs + MIN_NOTICE_MS).toISOString(),
        end: new Date(nowMs + horizonDays * 86_400_000).toISOString(),
        timeZone,
      },
      AbortSignal.timeout(CALENDAR_BUDGET_MS),
    );
    starts = slots.map((s) => s.start);
  } catch (err) {
    const timedOut = err instanceof ProviderError && err.status === undefined;
    c.get("log").warn("calendar availability failed", {
      ownerId,
      error: err instanceof Error ? err.message : String(err),
    });
    if (timedOut) throw new AppError(504, "calendar_timeout", "The calendar did not answer in time");
    throw new AppError(502, "calendar_unavailable", "The calendar refused the availability request");
  }
  const picked = pickSlots(starts, { timeZone, nowMs, count: 2, minNoticeMs: MIN_NOTICE_MS });
  return c.json({
    owner_id: ownerId,
    timezone: timeZone,
    slots: picked.map((start) => ({ start, spoken: formatSlotForSpeech(start, timeZone, nowMs) })),
  });
});
