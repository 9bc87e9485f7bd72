/**
 * The Twilio call a campaign attempt places: the public voice webhook with the flow, the campaign and the
 * lead's id (never its personal data); async AMD that waits for the greeting's end (so a voicemail is left after the beep);
 * status and AMD callbacks on campaign routes that close the attempt and feed the call's flow. Pure.
 */
import type { CreateCallParams } from "../integrations/twilio-rest";
import type { CampaignSettings } from "./schema";
import type { StoredLead } from "./store";

/** Seconds the callee's phone rings before `no-answer` (Ofcom: ring at least 15 s before giving up). */
export const RING_TIMEOUT_SECONDS = 25;

/** Webhook URL on the campaign's public origin, with the campaign id in the query (Twilio signs it whole). */
export function campaignWebhookUrl(
  settings: Pick<CampaignSettings, "publicBaseUrl" | "id">,
  path: string,
): string {
  const url = new URL(path, settings.publicBaseUrl.replace(/\/+$/, "/"));
  url.searchParams.set("campaign", settings.id);
  return url.toString();
}

/** Calls.json create parameters for one attempt. */
export function campaignCallParams(settings: CampaignSettings, lead: StoredLead): CreateCallParams {
  const voice = new URL("/twilio/voice", settings.publicBaseUrl);
  voice.searchParams.set("flow", settings.flow);
  voice.searchParams.set("campaign", settings.id);
  // Only the lead's id: Twilio logs the answer URL, so the call's Durable Object loads the lead's
  // name, email and time zone from the campaign (`leadVars`) instead.
  voice.searchParams.set("var_lead_id", lead.id);
  return {
    to: lead.phone,
    from: settings.callerId,
    url: voice.toString(),
    method: "POST",
    statusCallback: campaignWebhookUrl(settings, "/twilio/campaign-status"),
    statusCallbackMethod: "POST",
    statusCallbackEvents: ["initiated", "ringing", "answered", "completed"],
    timeoutSeconds: RING_TIMEOUT_SECONDS,
    amd: {
      mode: "DetectMessageEnd",
      async: true,
      asyncStatusCallback: campaignWebhookUrl(settings, "/twilio/campaign-amd"),
      asyncStatusCallbackMethod: "POST",
    },
  };
}
