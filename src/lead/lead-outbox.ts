/**
 * The durable half of lead ingest: the job the route keeps in the `EdgeState` outbox before it
 * answers 202, and the one runner both the route (at once, in `waitUntil`) and the Durable Object's
 * alarm (on retry) use. A lead leaves the outbox only when its after-work has landed.
 */
import type { AppConfig, LeadSite } from "../config/config";
import type { Lead } from "../integrations/lead";
import type { Logger } from "../lib/log";
import { RequestAudit } from "./audit";
import { businessClients } from "./clients";
import type { ClaimStore, LeadCallVarsStore, SuppressionSet } from "./edge-ports";
import { type LeadJobResult, processLead } from "./process-lead";

/** Everything the after-work needs, free of secrets (no Turnstile token, no site secrets). */
export interface PendingLead {
  leadId: string;
  lead: Lead;
  siteId: string;
  site: Pick<LeadSite, "callingAllowed" | "flow" | "campaign" | "from">;
  consent: { version: string; text: string } | undefined;
  timeZones: readonly string[];
  requestOrigin: string;
  requestId: string;
  acceptedAtMs: number;
}

/** First retry a minute after acceptance (the request's own run normally lands well before). */
export const OUTBOX_FIRST_RETRY_MS = 60_000;
/** After this many attempts the lead stays in the outbox, parked, for a person (logged as an error). */
export const OUTBOX_MAX_ATTEMPTS = 10;
/** A retry later than this after the form does not ring the lead; a person follows up instead. */
export const AUTO_CALL_MAX_AGE_MS = 15 * 60_000;

/** Backoff for the n-th attempt's lease: 1, 2, 4 … minutes, at most an hour. */
export function outboxLeaseMs(attempts: number): number {
  return Math.min(OUTBOX_FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/** Strip what must not be kept (bot-check tokens) from a validated lead. */
export function storableLead(lead: Lead): Lead {
  const { turnstile_token: _t, "cf-turnstile-response": _c, ...rest } = lead;
  return rest;
}

/** Run a pending lead's after-work now. `attempt` 0 is the request's own run. */
export function runPendingLead(
  p: PendingLead,
  deps: {
    config: AppConfig;
    suppressions: SuppressionSet;
    callVars: Pick<LeadCallVarsStore, "put">;
    callClaims: Pick<ClaimStore, "claim">;
    log: Logger;
    nowMs: number;
  },
): Promise<LeadJobResult> {
  return processLead({
    leadId: p.leadId,
    lead: p.lead,
    site: p.site,
    consent: p.consent,
    timeZones: p.timeZones,
    stale: deps.nowMs - p.acceptedAtMs > AUTO_CALL_MAX_AGE_MS,
    config: deps.config,
    clients: businessClients(deps.config, { crmMs: 3_000, chatMs: 3_000, telephonyMs: 5_000 }),
    suppressions: deps.suppressions,
    callVars: deps.callVars,
    callClaims: deps.callClaims,
    audit: new RequestAudit(`req:${p.requestId}`, deps.log.child({ leadId: p.leadId })),
    log: deps.log,
    requestOrigin: p.requestOrigin,
    nowMs: deps.nowMs,
  });
}
