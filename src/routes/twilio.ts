/**
 * Twilio-facing routes: the voice webhook (answers with `<Connect><Stream>`), status and AMD
 * callbacks, and the media WebSocket upgrade that is handed to the call's Durable Object.
 * Every request is checked against `X-Twilio-Signature` before anything else happens.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { validateTwilioSignature } from "../integrations/twilio-signature";
import { AppError } from "../lib/errors";
import { mintStreamToken, STREAM_TOKEN_PARAM } from "../telephony/stream-token";
import { AmdParams, CALL_SID, publicUrl, StatusParams, signedTwilioForm } from "../telephony/twilio-webhook";
import { connectStreamTwiml } from "../telephony/twiml";
import { requireConfigured } from "./require-config";

const VoiceParams = z.object({
  CallSid: z.string().regex(CALL_SID, "CallSid must be CA followed by 32 hex characters"),
  From: z.string().default(""),
  To: z.string().default(""),
  Direction: z.string().default("inbound"),
});

/** Template variables passed on the answer URL (`?var_first_name=Jo`) become stream parameters. */
function flowVars(url: URL): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (/^var_[a-z0-9_]{1,40}$/.test(k)) vars[k] = v.slice(0, 200);
  return vars;
}

export const twilioRoutes = new Hono<AppEnv>()
  // Fail closed (every /twilio/* route also needs TWILIO_AUTH_TOKEN: src/index.ts): no call starts
  // without its providers and stream-token secret, no media upgrade without a signature secret.
  .use("/twilio/voice", requireConfigured("twilio", "streamToken", "stt", "tts", "llm"))
  .use("/media/:callSid", requireConfigured("twilio", "streamToken"))
  .post("/twilio/voice", async (c) => {
    const config = c.get("config");
    const params = await signedTwilioForm(c.get("config"), c.req, VoiceParams);
    const url = new URL(c.req.url);
    const flow = url.searchParams.get("flow") ?? config.defaultFlow;
    if (!/^[a-z0-9-]{1,64}$/.test(flow)) throw new AppError(400, "bad_flow", "flow must be a flow id");
    const streamUrl = publicUrl(config, `${url.origin}/media/${params.CallSid}`, "wss");
    const streamParams: Record<string, string> = {
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
    // Signed last: the token covers every other parameter, so none can be changed on a replay.
    streamParams[STREAM_TOKEN_PARAM] = await mintStreamToken(
      config.streamTokenSecret,
      params.CallSid,
      streamParams,
      Date.now(),
      config.streamTokenTtlMs,
    );
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
    const params = await signedTwilioForm(c.get("config"), c.req, StatusParams);
    const stub = c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(params.CallSid));
    await stub.callStatus(params.CallSid, params.CallStatus, params.CallDuration ?? null);
    return c.body(null, 204);
  })
  .post("/twilio/amd", async (c) => {
    const params = await signedTwilioForm(c.get("config"), c.req, AmdParams);
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
