/**
 * Warm-transfer webhooks (all signed by Twilio, with signed short-lived parameters `t`): the whisper the
 * human hears before joining the caller's conference, the human leg's status (unanswered: the caller is
 * sent back to the voice webhook with `resume=callback`), and what the caller hears after the conference.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { twilioClient } from "../call/wiring";
import { type TransferToken, verifyTransferToken } from "../campaign/transfer-token";
import { transferEndedTwiml, transferUnavailableTwiml, whisperTwiml } from "../campaign/transfer-twiml";
import { resumeCallbackUrl, UNANSWERED_AGENT_STATUSES } from "../campaign/warm-transfer";
import type { AppConfig } from "../config/config";
import { CALL_SID, publicUrl, signedTwilioForm } from "../telephony/twilio-webhook";
import { requireConfigured } from "./require-config";

const CallForm = z.object({ CallSid: z.string().regex(CALL_SID) });
const StatusForm = CallForm.extend({ CallStatus: z.string().min(1) });

const xml = { "content-type": "text/xml" } as const;

/** Slack on top of the ring timeout for the whisper URL to be fetched (the human answered late in it). */
const WHISPER_SLACK_MS = 60_000;

async function token(config: AppConfig, url: string, maxAgeMs: number): Promise<TransferToken | null> {
  const t = new URL(url).searchParams.get("t") ?? undefined;
  const check = await verifyTransferToken(config.streamTokenSecret, t, Date.now(), maxAgeMs);
  return check.ok ? check.token : null;
}

/** The longest a transfer's later callbacks may arrive: a whole call after the transfer started. */
function legMaxAgeMs(config: AppConfig): number {
  return config.maxCallDurationMs + config.transfer.timeoutSeconds * 1000 + 10 * 60_000;
}

export const transferRoutes = new Hono<AppEnv>()
  .use("/twilio/transfer/*", requireConfigured("twilio", "twilioRest", "streamToken"))
  .post("/twilio/transfer/whisper", async (c) => {
    const config = c.get("config");
    await signedTwilioForm(config, c.req, CallForm);
    const t = await token(config, c.req.url, config.transfer.timeoutSeconds * 1000 + WHISPER_SLACK_MS);
    if (!t?.ctx) {
      c.get("log").warn("whisper refused: transfer parameters missing, forged or stale");
      return c.body(transferUnavailableTwiml(), 200, xml);
    }
    return c.body(whisperTwiml({ conference: t.conf, context: t.ctx }), 200, xml);
  })
  .post("/twilio/transfer/agent-status", async (c) => {
    const config = c.get("config");
    const form = await signedTwilioForm(config, c.req, StatusForm);
    const t = await token(config, c.req.url, legMaxAgeMs(config));
    if (!t) {
      c.get("log").warn("transfer status refused: parameters missing, forged or stale");
      return c.body(null, 204);
    }
    if (!UNANSWERED_AGENT_STATUSES.has(form.CallStatus)) return c.body(null, 204);
    const base = config.publicBaseUrl ?? new URL(publicUrl(config, c.req.url)).origin;
    const url = resumeCallbackUrl(base, t.flow, t.campaign);
    try {
      await twilioClient(config).updateCall(t.callSid, { url, method: "POST" });
      c.get("log").info("transfer unanswered: caller sent back for a callback", {
        callSid: t.callSid,
        agentStatus: form.CallStatus,
      });
    } catch (err) {
      // The caller already hung up (Twilio refuses to redirect a finished call): nothing left to do.
      c.get("log").warn("transfer unanswered but the caller could not be redirected", {
        callSid: t.callSid,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    return c.body(null, 204);
  })
  .post("/twilio/transfer/caller-done", async (c) => {
    const config = c.get("config");
    await signedTwilioForm(config, c.req, CallForm);
    return c.body(transferEndedTwiml(), 200, xml);
  });
