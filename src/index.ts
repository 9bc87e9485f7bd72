/**
 * Worker entry: the Hono app with its route groups, one error mapper, and the Durable Object
 * classes wrangler needs exported from the main module.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { ConfigError } from "./config/config";
import { configFor, loggerFor } from "./config/context";
import { AppError } from "./lib/errors";
import { createLogger, errorFields } from "./lib/log";
import { purgeExpired } from "./privacy/erasure";
import { adminRoutes } from "./routes/admin";
import { bodyLimits } from "./routes/body-limits";
import { bookingRoutes } from "./routes/booking";
import { campaignRoutes } from "./routes/campaigns";
import { corsRoutes } from "./routes/cors";
import { dashboardRoutes } from "./routes/dashboard";
import { healthRoutes } from "./routes/health";
import { ingestRoutes } from "./routes/ingest";
import { requireConfigured } from "./routes/require-config";
import { slotsRoutes } from "./routes/slots";
import { transferRoutes } from "./routes/transfer";
import { twilioRoutes } from "./routes/twilio";
import { neonConnect } from "./store/neon";
import { StateStoreUnavailableError } from "./store/upstash-state";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
  const config = configFor(c.env);
  const requestId = c.req.header("cf-ray") ?? crypto.randomUUID();
  c.set("config", config);
  c.set("requestId", requestId);
  c.set("log", loggerFor(config, { requestId, route: c.req.path }));
  await next();
});

// Every body is capped before any route parses it.
app.use(bodyLimits);

// Fail closed: every Twilio webhook is checked against TWILIO_AUTH_TOKEN, so none is served without it.
app.use("/twilio/*", requireConfigured("twilio"));

app.route("/", healthRoutes);
app.route("/", twilioRoutes);
app.route("/", bookingRoutes);
app.route("/", slotsRoutes);
app.route("/", corsRoutes);
app.route("/", ingestRoutes);
app.route("/", adminRoutes);
app.route("/", dashboardRoutes);
app.route("/", campaignRoutes);
app.route("/", transferRoutes);

app.notFound((c) => c.json({ error: { code: "not_found", message: "No such route" } }, 404));

app.onError((err, c) => {
  if (err instanceof AppError) {
    return c.json({ error: { code: err.code, message: err.message, details: err.details } }, err.status);
  }
  if (err instanceof HTTPException) {
    return c.json({ error: { code: "http_error", message: err.message } }, err.status);
  }
  const log = c.get("log") ?? createLogger({ route: c.req.path });
  if (err instanceof StateStoreUnavailableError) {
    log.error("state store unavailable", { error: err.cause instanceof Error ? err.cause.name : "unknown" });
    c.header("retry-after", String(err.retryAfterSeconds));
    return c.json(
      { error: { code: "state_unavailable", message: "Temporarily unavailable; retry shortly" } },
      503,
    );
  }
  if (err instanceof ConfigError) {
    // The variable goes to the log; the body says nothing about the deployment's configuration.
    log.error("configuration invalid", { variable: err.variable });
    return c.json({ error: { code: "config_invalid", message: "This service is misconfigured" } }, 503);
  }
  log.error("unhandled error", { error: err.message, name: err.name });
  return c.json({ error: { code: "internal", message: "Internal error" } }, 500);
});

/**
 * Daily retention job: erase recordings, transcripts, personal fields and each call's Durable Object
 * storage for calls older than RETENTION_DAYS, until nothing is due or the time budget is spent (the
 * next run resumes where this one stopped).
 */
async function scheduled(
  _controller: ScheduledController,
  env: AppEnv["Bindings"],
  _ctx: ExecutionContext,
): Promise<void> {
  const config = configFor(env);
  const log = loggerFor(config, { job: "retention" });
  if (!config.database || config.retentionDays <= 0) return;
  const { session, release } = await neonConnect({
    databaseUrl: config.database.url,
    wsProxyUrl: config.database.wsProxy,
  })();
  try {
    const run = await purgeExpired({ session, bucket: env.MEDIA, nowMs: Date.now() }, config.retentionDays, {
      budgetMs: RETENTION_BUDGET_MS,
      clock: () => Date.now(),
      forgetCall: (callSid) => env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid)).erase(callSid),
      onFailure: (callSid, err) => log.warn("retention erasure failed", { callSid, error: errorFields(err) }),
    });
    log.info("retention run finished", { erased: run.erased.length, failed: run.failed, done: run.done });
  } finally {
    await release();
  }
}

/** Well inside a Cron Trigger's 15-minute wall-clock limit. */
const RETENTION_BUDGET_MS = 10 * 60_000;

export default { fetch: app.fetch, scheduled } satisfies ExportedHandler<AppEnv["Bindings"]>;
export { CallSession } from "../durable-objects/call-session";
export { CampaignDialer } from "../durable-objects/campaign";
export { EdgeState } from "../durable-objects/edge-state";
