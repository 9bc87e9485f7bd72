/**
 * Campaign API (bearer CAMPAIGN_API_TOKEN; closed when unset): create, add leads, start, pause, progress.
 * The campaign's Durable Object holds the truth; Postgres gets the same rows when configured. Also the
 * campaign's Twilio webhooks: status and async-AMD callbacks go to the call's Durable Object exactly as
 * on /twilio/status and /twilio/amd, then close or annotate the campaign's attempt.
 */
import { zValidator } from "@hono/zod-validator";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppBindings, AppEnv } from "../app-env";
import { insertCampaign, insertCampaignLeads, updateCampaignStatus } from "../campaign/records";
import {
  CAMPAIGN_ID,
  CampaignInputSchema,
  type CampaignSettings,
  LeadBatchSchema,
  newCampaignId,
} from "../campaign/schema";
import type { AppConfig } from "../config/config";
import { sha256Hex, timingSafeEqualString } from "../integrations/crypto";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/log";
import { neonConnect } from "../store/neon";
import type { SqlSession } from "../store/sql-client";
import { AmdParams, StatusParams, signedTwilioForm } from "../telephony/twilio-webhook";
import { requireConfigured } from "./require-config";

const invalidBody = (result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[]; message: string }[] };
}) => {
  if (!result.success) {
    const issue = result.error?.issues[0];
    throw new AppError(
      422,
      "invalid_body",
      `${issue?.path.map(String).join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
};

function dialer(env: AppBindings, id: string) {
  if (!CAMPAIGN_ID.test(id)) throw new AppError(404, "campaign_not_found", "No campaign with that id");
  return env.CAMPAIGN_DIALER.get(env.CAMPAIGN_DIALER.idFromName(id));
}

/** Write to Postgres when configured. The Durable Object already holds the truth, so a failure is reported, not fatal. */
async function toPostgres(
  config: AppConfig,
  log: Logger,
  write: (session: SqlSession) => Promise<void>,
): Promise<"written" | "failed" | "not_configured"> {
  const db = config.database;
  if (!db) return "not_configured";
  try {
    const { session, release } = await neonConnect({
      databaseUrl: db.url,
      wsProxyUrl: db.wsProxy,
      queryTimeoutMs: 5_000,
    })();
    try {
      await write(session);
    } finally {
      await release();
    }
    return "written";
  } catch (err) {
    log.error("campaign rows not written to Postgres", {
      error: err instanceof Error ? err.message : String(err),
    });
    return "failed";
  }
}

const StatusForm = StatusParams;
const AmdForm = AmdParams;

function campaignParam(url: string): string {
  const id = new URL(url).searchParams.get("campaign") ?? "";
  if (!CAMPAIGN_ID.test(id)) throw new AppError(400, "bad_campaign", "campaign must be a campaign id");
  return id;
}

export const campaignRoutes = new Hono<AppEnv>();

/** Bearer CAMPAIGN_API_TOKEN, compared as digests (constant time; the token's length is not revealed). */
const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = c.get("config").campaignApiToken;
  if (token === undefined) {
    throw new AppError(403, "campaigns_disabled", "The campaign API is disabled: set CAMPAIGN_API_TOKEN");
  }
  const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!given || !timingSafeEqualString(await sha256Hex(given), await sha256Hex(token))) {
    c.header("WWW-Authenticate", 'Bearer realm="campaigns"');
    throw new AppError(401, "unauthorized", "A valid bearer token is required");
  }
  await next();
};

// A campaign dials through Twilio's REST API: refused up front when its credentials are not configured.
const configured = requireConfigured("campaignApi", "twilio", "twilioRest");
campaignRoutes.use("/api/campaigns", configured, requireToken);
campaignRoutes.use("/api/campaigns/*", configured, requireToken);

campaignRoutes
  .post("/api/campaigns", zValidator("json", CampaignInputSchema, invalidBody), async (c) => {
    const config = c.get("config");
    const input = c.req.valid("json");
    const id = newCampaignId();
    const settings: CampaignSettings = {
      ...input,
      id,
      publicBaseUrl: config.publicBaseUrl ?? new URL(c.req.url).origin,
      createdAtMs: Date.now(),
    };
    await dialer(c.env, id).create(settings);
    const postgres = await toPostgres(config, c.get("log"), (s) => insertCampaign(s, settings));
    c.get("log").info("campaign created", { campaignId: id, flow: input.flow });
    return c.json({ id, status: "draft", settings, postgres }, 201);
  })
  .post("/api/campaigns/:id/leads", zValidator("json", LeadBatchSchema, invalidBody), async (c) => {
    const id = c.req.param("id");
    const stub = dialer(c.env, id);
    if ((await stub.settings()) === null)
      throw new AppError(404, "campaign_not_found", "No campaign with that id");
    const { leads } = c.req.valid("json");
    const result = await stub.addLeads(leads);
    const postgres = await toPostgres(c.get("config"), c.get("log"), (s) =>
      insertCampaignLeads(s, id, leads, Date.now()),
    );
    return c.json({ ...result, postgres }, 200);
  })
  .post("/api/campaigns/:id/:action{start|pause}", async (c) => {
    const id = c.req.param("id");
    const action = c.req.param("action") === "start" ? "start" : "pause";
    const stub = dialer(c.env, id);
    if ((await stub.settings()) === null)
      throw new AppError(404, "campaign_not_found", "No campaign with that id");
    const progress = action === "start" ? await stub.start() : await stub.pause();
    const status = action === "start" ? "running" : "paused";
    const postgres = await toPostgres(c.get("config"), c.get("log"), (s) =>
      updateCampaignStatus(s, id, status),
    );
    return c.json({ progress, postgres }, 200);
  })
  .get("/api/campaigns/:id", async (c) => {
    const progress = await dialer(c.env, c.req.param("id")).progress();
    if (progress === null) throw new AppError(404, "campaign_not_found", "No campaign with that id");
    return c.json(progress, 200);
  })
  .post("/twilio/campaign-status", async (c) => {
    const form = await signedTwilioForm(c.get("config"), c.req, StatusForm);
    const id = campaignParam(c.req.url);
    // The call's own Durable Object hears the status first, exactly as on /twilio/status.
    const call = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(form.CallSid));
    await call.callStatus(form.CallSid, form.CallStatus, form.CallDuration ?? null);
    const result = await dialer(c.env, id).attemptStatus(form.CallSid, form.CallStatus);
    if (!result.known)
      c.get("log").warn("status for a call the campaign does not know", {
        campaignId: id,
        callSid: form.CallSid,
      });
    return c.body(null, 204);
  })
  .post("/twilio/campaign-amd", async (c) => {
    const form = await signedTwilioForm(c.get("config"), c.req, AmdForm);
    const id = campaignParam(c.req.url);
    const call = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(form.CallSid));
    await call.amdResult(form.CallSid, form.AnsweredBy);
    await dialer(c.env, id).attemptAmd(form.CallSid, form.AnsweredBy);
    return c.body(null, 204);
  });
