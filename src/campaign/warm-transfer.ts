/**
 * Warm transfer to a human over Twilio REST: the live call is moved into a named conference (caller
 * hears a short line, then silence), the human's number is called with the whisper as its answer URL
 * and rung for at most `timeoutSeconds`, and the CRM gets a note with the context. When the human does
 * not answer, the caller is sent back to the voice webhook with `resume=callback`.
 */
import type { HubspotClient } from "../integrations/hubspot";
import type { TwilioRestClient } from "../integrations/twilio-rest";
import type { Logger } from "../lib/log";
import { signTransferToken, type TransferContext, type TransferToken } from "./transfer-token";
import { callerHoldTwiml, conferenceName, DEFAULT_HOLD_LINE, whisperText } from "./transfer-twiml";

/** Outside services the transfer uses; `crm` is optional (no note without it). */
export interface WarmTransferDeps {
  twilio: Pick<TwilioRestClient, "createCall" | "updateCall">;
  crm?: Pick<HubspotClient, "upsertContact" | "createNote">;
  /** HMAC key of the signed webhook parameters (the stream-token secret). */
  secret: string;
  /** Origin of the public webhooks (PUBLIC_BASE_URL). */
  publicBaseUrl: string;
  nowMs: number;
  log?: Logger;
}

/** One transfer. `callerId` is a Twilio number of ours (shown to the human). */
export interface WarmTransferRequest {
  callSid: string;
  flow: string;
  agentNumber: string;
  callerId: string;
  timeoutSeconds: number;
  context: TransferContext;
  /** For the CRM note: the contact is found (or created) by email. */
  contact?: { email: string; phone?: string; firstName?: string };
  campaign?: string;
  holdLine?: string;
}

/** What happened. `fallback` is true when the caller was sent back for a callback at once. */
export interface WarmTransferResult {
  conference: string;
  agentCallSid: string | null;
  fallback: boolean;
  crmNote: "written" | "skipped" | "failed";
}

/** The voice webhook URL a caller returns to when nobody answered: the flow then offers a callback. */
export function resumeCallbackUrl(publicBaseUrl: string, flow: string, campaign?: string): string {
  const url = new URL("/twilio/voice", publicBaseUrl);
  url.searchParams.set("flow", flow);
  url.searchParams.set("resume", "callback");
  if (campaign) url.searchParams.set("campaign", campaign);
  return url.toString();
}

function routeUrl(base: string, path: string, token: string): string {
  const url = new URL(path, base);
  url.searchParams.set("t", token);
  return url.toString();
}

async function crmNote(
  deps: WarmTransferDeps,
  req: WarmTransferRequest,
): Promise<WarmTransferResult["crmNote"]> {
  const crm = deps.crm;
  if (!crm || !req.contact) return "skipped";
  try {
    const contact = await crm.upsertContact({
      email: req.contact.email,
      ...(req.contact.phone ? { phone: req.contact.phone } : {}),
      ...(req.contact.firstName ? { firstname: req.contact.firstName } : {}),
    });
    await crm.createNote({
      contactId: contact.id,
      body: `Warm transfer to a human (call ${req.callSid}). ${whisperText(req.context)}`,
      timestampMs: deps.nowMs,
    });
    return "written";
  } catch (err) {
    deps.log?.warn("warm transfer CRM note failed", {
      error: err instanceof Error ? err.message : String(err),
    });
    return "failed";
  }
}

/**
 * Start a warm transfer for a live call. The caller is in the conference before the human's phone
 * rings; if the human's leg cannot even be created, the caller goes straight back for a callback.
 */
export async function startWarmTransfer(
  deps: WarmTransferDeps,
  req: WarmTransferRequest,
): Promise<WarmTransferResult> {
  const conference = conferenceName(req.callSid);
  const base: TransferToken = {
    v: 1,
    callSid: req.callSid,
    conf: conference,
    flow: req.flow,
    iat: deps.nowMs,
    ...(req.campaign ? { campaign: req.campaign } : {}),
  };
  const [legToken, whisperToken] = await Promise.all([
    signTransferToken(deps.secret, base),
    signTransferToken(deps.secret, { ...base, ctx: req.context }),
  ]);
  const note = crmNote(deps, req);
  await deps.twilio.updateCall(req.callSid, {
    twiml: callerHoldTwiml({
      conference,
      holdLine: req.holdLine ?? DEFAULT_HOLD_LINE,
      actionUrl: routeUrl(deps.publicBaseUrl, "/twilio/transfer/caller-done", legToken),
    }),
  });
  let agentCallSid: string | null = null;
  try {
    const agent = await deps.twilio.createCall({
      to: req.agentNumber,
      from: req.callerId,
      url: routeUrl(deps.publicBaseUrl, "/twilio/transfer/whisper", whisperToken),
      method: "POST",
      statusCallback: routeUrl(deps.publicBaseUrl, "/twilio/transfer/agent-status", legToken),
      statusCallbackMethod: "POST",
      statusCallbackEvents: ["completed"],
      timeoutSeconds: req.timeoutSeconds,
    });
    agentCallSid = agent.sid;
  } catch (err) {
    deps.log?.warn("warm transfer: the human's leg was not created; offering a callback", {
      callSid: req.callSid,
      error: err instanceof Error ? err.message : String(err),
    });
    await deps.twilio.updateCall(req.callSid, {
      url: resumeCallbackUrl(deps.publicBaseUrl, req.flow, req.campaign),
      method: "POST",
    });
  }
  return { conference, agentCallSid, fallback: agentCallSid === null, crmNote: await note };
}

/** Statuses of the human's leg that mean nobody took the call. */
export const UNANSWERED_AGENT_STATUSES: ReadonlySet<string> = new Set([
  "no-answer",
  "busy",
  "failed",
  "canceled",
]);
