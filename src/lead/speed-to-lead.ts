/**
 * Speed to lead, pure: whether a new web lead is called now, queued for a human in chat, or left
 * to the alert alone, and the exact Twilio call a "call" means. No I/O; the clock is a parameter.
 */
import type { LeadSite } from "../config/config";
import { type CallingWindowStatus, callingWindowStatus } from "../flow/time";
import type { CreateCallParams } from "../integrations/twilio-rest";

/** Facts the decision needs. `suppressed: "unknown"` when the do-not-call check could not be made. */
export interface SpeedToLeadInput {
  callingAllowed: boolean;
  consentGiven: boolean;
  suppressed: boolean | "unknown";
  hasCallerId: boolean;
  nowMs: number;
  /**
   * Zones whose calling window must all be open: from the number's country (see `callingZones` in
   * number-policy.ts), never from the form's own `timezone` alone. Empty = unknown: never call.
   */
  timeZones: readonly string[];
  /** The lead is too old for an automatic call (a retry long after the form was sent). */
  stale?: boolean;
}

/** What happens to the lead after the CRM write and the alert. */
export type SpeedToLeadDecision =
  | { action: "call"; reason: "open" }
  | {
      action: "queue";
      reason:
        | Exclude<CallingWindowStatus["reason"], "open">
        | "suppression_check_failed"
        | "no_caller_id"
        | "no_time_zone"
        | "stale";
    }
  | { action: "none"; reason: "campaign_disallows_calling" | "suppressed" | "no_consent" };

/**
 * Call only when the campaign allows it, the lead consented, the number is known not to be
 * suppressed and the lead's local time is inside the calling window. A closed window, or a check we
 * could not complete, goes to the human queue; a suppressed number is never dialled or queued.
 */
export function decideSpeedToLead(i: SpeedToLeadInput): SpeedToLeadDecision {
  if (!i.callingAllowed) return { action: "none", reason: "campaign_disallows_calling" };
  if (i.suppressed === true) return { action: "none", reason: "suppressed" };
  if (!i.consentGiven) return { action: "none", reason: "no_consent" };
  if (i.suppressed === "unknown") return { action: "queue", reason: "suppression_check_failed" };
  if (i.stale === true) return { action: "queue", reason: "stale" };
  if (i.timeZones.length === 0) return { action: "queue", reason: "no_time_zone" };
  for (const zone of i.timeZones) {
    const window = callingWindowStatus(i.nowMs, zone);
    if (!window.open)
      return { action: "queue", reason: window.reason === "open" ? "outside_hours" : window.reason };
  }
  if (!i.hasCallerId) return { action: "queue", reason: "no_caller_id" };
  return { action: "call", reason: "open" };
}

/**
 * Where a speed-to-lead call's details came from, as the agent says it when the caller asks
 * ("We have your details from …"): this path only ever dials a lead a site's form just sent.
 */
export const WEB_LEAD_SOURCE = "your enquiry on our website";

/**
 * The flow variables a lead's call needs that identify the lead (name, email). They are kept
 * server-side under the lead id (see `LeadCallVarsStore`) and loaded by the call's Durable Object,
 * never put on the answer URL: Twilio logs it.
 */
export function leadCallVars(q: { firstName: string; email: string }): Record<string, string> {
  return { first_name: q.firstName.slice(0, 200), email: q.email.slice(0, 200) };
}

/**
 * The Twilio call for a lead: the public voice webhook with the flow, the lead's id and nothing
 * personal (the answer URL ends up in Twilio's logs), async AMD, status callbacks.
 */
export function outboundCallParams(q: {
  publicBaseUrl: string;
  to: string;
  from: string;
  site: Pick<LeadSite, "flow" | "campaign">;
  leadId: string;
}): CreateCallParams {
  const base = q.publicBaseUrl.replace(/\/+$/, "");
  const voice = new URL(`${base}/twilio/voice`);
  voice.searchParams.set("flow", q.site.flow);
  voice.searchParams.set("var_lead_id", q.leadId);
  voice.searchParams.set("var_lead_source", WEB_LEAD_SOURCE);
  if (q.site.campaign) voice.searchParams.set("campaign", q.site.campaign);
  return {
    to: q.to,
    from: q.from,
    url: voice.toString(),
    method: "POST",
    statusCallback: `${base}/twilio/status`,
    statusCallbackMethod: "POST",
    statusCallbackEvents: ["initiated", "ringing", "answered", "completed"],
    timeoutSeconds: 25,
    amd: {
      mode: "Enable",
      async: true,
      asyncStatusCallback: `${base}/twilio/amd`,
      asyncStatusCallbackMethod: "POST",
    },
  };
}

/** A one-line summary of the decision for people (chat), without the lead's number. */
export function decisionText(d: SpeedToLeadDecision): string {
  switch (d.reason) {
    case "open":
      return "calling now";
    case "outside_hours":
    case "closed_day":
    case "bank_holiday":
    case "closed_date":
    case "bank_holidays_unknown":
      return "outside calling hours: please follow up when the window opens";
    case "suppression_check_failed":
      return "do-not-call check unavailable: please check before calling";
    case "no_caller_id":
      return "no caller id configured: please call back by hand";
    case "no_time_zone":
      return "the number's local time is unknown: please call back by hand";
    case "stale":
      return "too late for an automatic call: please call back by hand";
    case "campaign_disallows_calling":
      return "campaign does not auto-call";
    case "suppressed":
      return "number is on the do-not-call list";
    case "no_consent":
      return "no consent to call";
  }
}
