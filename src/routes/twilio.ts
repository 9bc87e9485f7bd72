/**
 * Twilio-facing routes: the voice webhook (answers with `<Connect><Stream>`), status and AMD
 * callbacks, and the media WebSocket upgrade that is handed to the call's Durable Object.
 * Every request is checked against `X-Twilio-Signature` before anything else happens.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import type { AppConfig } from "../config/config";
import { validateTwilioSignature } from "../integrations/twilio-signature";
import { AppError } from "../lib/errors";
import { mintStreamToken } from "../telephony/stream-token";
import { connectStreamTwiml } from "../telephony/twiml";

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;

const VoiceParams = z.object({
  CallSid: z.string().regex(CALL_SID, "CallSid must be CA followed by 32 hex characters"),
  From: z.string().default(""),
  To: z.string().default(""),
  Direction: z.string().default("inbound"),
});

const StatusParams = z.object({
  CallSid: z.string().regex(CALL_SID, "CallSid must be CA followed by 32 hex characters"),
  CallStatus: z.enum([
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
  ]),
  CallDuration: z.coerce.number().int().nonnegative().optional(),
});

const AmdParams = z.object({
  CallSid: z.string().regex(CALL_SID, "CallSid must be CA followed by 32 hex characters"),
  AnsweredBy: z.enum([
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
  ]),
});

/** The URL Twilio signed: the configured public base (behind proxies) or the request URL itself. */
export function publicUrl(config: AppConfig, requestUrl: string, scheme?: "wss"): string {
  const req = new URL(requestUrl);
  const base = config.publicBaseUrl ? new URL(config.publicBaseUrl) : req;
  const out = new URL(`${req.pathname}${req.search}`, `${base.protocol}//${base.host}`);
  if (scheme === "wss") out.protocol = "wss:";
  return out.toString();
}

async function signedForm(c: {
  req: {
    url: string;
    header(name: string): string | undefined;
    parseBody(): Promise<Record<string, unknown>>;
  };
  get(key: "config"): AppConfig;
}): Promise<Record<string, string>> {
  const config = c.get("config");
  const body = await c.req.parseBody().catch(() => {
    throw new AppError(400, "bad_form", "Body must be application/x-www-form-urlencoded");
  });
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") params[k] = v;
  const signature = c.req.header("x-twilio-signature");
  if (!signature) throw new AppError(403, "signature_missing", "X-Twilio-Signature header is required");
  const ok = await validateTwilioSignature({
    authToken: config.twilio.credential,
    url: publicUrl(config, c.req.url),
    params,
    signature,
  });
  if (!ok) throw new AppError(403, "signature_invalid", "X-Twilio-Signature does not match this request");
  return params;
}

function parse<T>(schema: z.ZodType<T>, params: Record<string, string>): T {
  const r = schema.safeParse(params);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new AppError(
      400,
      "bad_params",
      `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return r.data;
}

/** Template variables passed on the answer URL (`?var_first_name=Jo`) become stream parameters. */
function flowVars(url: URL): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (/^var_[a-z0-9_]{1,40}$/.test(k)) vars[k] = v.slice(0, 200);
  return vars;
}

export const twilioRoutes = new Hono<AppEnv>()
  .post("/twilio/voice", async (c) => {
    const config = c.get("config");
    const params = parse(VoiceParams, await signedForm(c));
    const url = new URL(c.req.url);
    const flow = url.searchParams.get("flow") ?? config.defaultFlow;
    if (!/^[a-z0-9-]{1,64}$/.test(flow)) throw new AppError(400, "bad_flow", "flow must be a flow id");
    const token = await mintStreamToken(
      config.streamTokenSecret,
      params.CallSid,
      Date.now(),
      config.streamTokenTtlMs,
    );
    const streamUrl = publicUrl(config, `${url.origin}/media/${params.CallSid}`, "wss");
    const streamParams: Record<string, string> = {
      token,
      flow,
      direction: params.Direction,
      from: params.From,
      to: params.To,
      ...flowVars(url),
    };
    const campaign = url.searchParams.get("campaign");
    if (campaign) streamParams.campaign = campaign.slice(0, 64);
    // Back from a warm transfer nobody answered: the call resumes with a callback offer.
    if (url.searchParams.get("resume") === "callback") streamParams.resume = "callback";
    c.get("log").info("voice webhook answered", {
      callSid: params.CallSid,
      flow,
      direction: params.Direction,
    });
    const redirectUrl = publicUrl(config, c.req.url);
    return c.body(connectStreamTwiml(streamUrl, streamParams, { redirectUrl }), 200, {
      "content-type": "text/xml",
    });
  })
  .post("/twilio/status", async (c) => {
    const params = parse(StatusParams, await signedForm(c));
    const stub = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(params.CallSid));
    await stub.callStatus(params.CallSid, params.CallStatus, params.CallDuration ?? null);
    return c.body(null, 204);
  })
  .post("/twilio/amd", async (c) => {
    const params = parse(AmdParams, await signedForm(c));
    const stub = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(params.CallSid));
    await stub.amdResult(params.CallSid, params.AnsweredBy);
    return c.body(null, 204);
  })
  .get("/media/:callSid", async (c) => {
    const callSid = c.req.param("callSid");
    if (!CALL_SID.test(callSid)) throw new AppError(400, "bad_call_sid", "Path must end in a CallSid");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError(426, "upgrade_required", "Expected a WebSocket upgrade");
    }
    const config = c.get("config");
    const signature = c.req.header("x-twilio-signature");
    const ok =
      signature !== undefined &&
      (await validateTwilioSignature({
        authToken: config.twilio.credential,
        url: publicUrl(config, c.req.url, "wss"),
        params: {},
        signature,
      }));
    if (!ok) throw new AppError(403, "signature_invalid", "Media stream handshake is not signed by Twilio");
    const stub = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid));
    return stub.fetch(c.req.raw);
  });
