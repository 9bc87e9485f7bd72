/**
 * The slow half of lead ingest, run after the 202 (in `waitUntil`): CRM contact and activity, the
 * team alert with the CRM link, the do-not-call check, the speed-to-lead decision and its effect
 * (an outbound call or a line in the human queue), then the `lead.captured` row and the audit trail.
 * Never throws: every failure is recorded and the rest still happens.
 */
import type { AppConfig, LeadSite } from "../config/config";
import { contactUrl } from "../integrations/hubspot";
import type { Lead } from "../integrations/lead";
import { escapeSlackText } from "../integrations/slack-text";
import type { Logger } from "../lib/log";
import { persistAudit, type RequestAudit } from "./audit";
import { type BusinessClients, splitName } from "./clients";
import type { ClaimStore, LeadCallVarsStore, SuppressionSet } from "./edge-ports";
import { LEAD_CALL_VARS_TTL_SECONDS } from "./edge-store";
import { isSuppressedInDb, recordLead } from "./records";
import {
  decideSpeedToLead,
  decisionText,
  leadCallVars,
  outboundCallParams,
  type SpeedToLeadDecision,
} from "./speed-to-lead";

/** Everything the background work needs, built by the route before it answers. */
export interface LeadJob {
  leadId: string;
  lead: Lead;
  site: Pick<LeadSite, "callingAllowed" | "flow" | "campaign" | "from">;
  /**
   * The consent the site's own wording records (version and text as configured), present only when
   * the form said yes to that very version; the submitter's `consent` field alone never authorizes a call.
   */
  consent: { version: string; text: string } | undefined;
  /** Zones whose calling window must be open (from the number's country; see number-policy.ts). */
  timeZones: readonly string[];
  /** True when this run is a retry too long after the form for an automatic call. */
  stale?: boolean;
  config: AppConfig;
  clients: BusinessClients;
  suppressions: SuppressionSet;
  /** Where the call's personal variables wait for its Durable Object (never on Twilio's URL). */
  callVars: Pick<LeadCallVarsStore, "put">;
  /** Claims that make "at most one call per lead" hold across retries of this work. */
  callClaims: Pick<ClaimStore, "claim">;
  audit: RequestAudit;
  log: Logger;
  /** Origin for Twilio's webhooks when PUBLIC_BASE_URL is not set. */
  requestOrigin: string;
  nowMs: number;
}

/** What happened, for tests and the bench. */
export interface LeadJobResult {
  contactId: string | undefined;
  decision: SpeedToLeadDecision;
  callSid: string | undefined;
  queued: boolean;
  /** Whether every part that must land did (CRM, a message to people, the lead row); else retry. */
  landed: boolean;
}

/** How long the one-call-per-lead claim lives: far beyond any retry of the after-work. */
const CALL_CLAIM_TTL_SECONDS = 7 * 86_400;

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function suppressed(job: LeadJob): Promise<boolean | "unknown"> {
  const phone = job.lead.phone;
  const checks: Promise<boolean>[] = [
    job.audit.call("edge-state", "is_suppressed", () => job.suppressions.has(phone)),
  ];
  const connect = job.clients.db;
  if (connect !== undefined) {
    checks.push(
      job.audit.call("postgres", "is_suppressed", async () => {
        const { session, release } = await connect();
        try {
          return await isSuppressedInDb(session, phone);
        } finally {
          await release();
        }
      }),
    );
  }
  const results = await Promise.allSettled(checks);
  if (results.some((r) => r.status === "fulfilled" && r.value)) return true;
  // Fail closed: a check that did not answer means we do not know, so nobody is dialled automatically.
  return results.every((r) => r.status === "fulfilled") ? false : "unknown";
}

async function crmWrite(job: LeadJob): Promise<string> {
  const { lead, clients, audit } = job;
  const contact = await audit.call("hubspot", "upsert_contact", () =>
    clients.crm.upsertContact({
      email: lead.email,
      phone: lead.phone,
      ...splitName(lead.name),
      extra: { hs_lead_status: "NEW" },
    }),
  );
  const consent = job.consent ? `yes, wording version ${job.consent.version}: "${job.consent.text}"` : "no";
  await audit.call("hubspot", "create_note", () =>
    clients.crm.createNote({
      contactId: contact.id,
      body: `Web lead from ${lead.site_id} (${lead.source}): ${lead.intent}. Consent to call: ${consent}.`,
      timestampMs: job.nowMs,
    }),
  );
  return contact.id;
}

/** Run the background work for one accepted lead. */
export async function processLead(job: LeadJob): Promise<LeadJobResult> {
  const { lead, config, clients, audit, log } = job;
  const [crm, dnc] = await Promise.allSettled([crmWrite(job), suppressed(job)]);
  const contactId = crm.status === "fulfilled" ? crm.value : undefined;
  const link = contactId
    ? contactUrl(config.hubspot.portalId, contactId, config.leads.crmAppBaseUrl)
    : undefined;
  const isSuppressed = dnc.status === "fulfilled" ? dnc.value : "unknown";
  const from = job.site.from ?? config.leads.fromNumber;
  const decision = decideSpeedToLead({
    callingAllowed: job.site.callingAllowed,
    consentGiven: job.consent !== undefined,
    suppressed: isSuppressed,
    hasCallerId: from !== undefined,
    nowMs: job.nowMs,
    timeZones: job.timeZones,
    stale: job.stale === true,
  });
  audit.record(
    "lead.speed_to_lead",
    { leadId: job.leadId, action: decision.action, reason: decision.reason, siteId: lead.site_id },
    { leadId: job.leadId, action: decision.action, reason: decision.reason },
  );

  const crmPart = link ? `<${link}|View in HubSpot>` : "CRM write failed, see logs";
  // Name and intent are the submitter's words: escaped so they cannot ping a channel or forge a link.
  const who = `${escapeSlackText(lead.name)} (${escapeSlackText(lead.intent)})`;
  const alert = `New web lead: ${who} from ${lead.site_id}: ${decisionText(decision)}. ${crmPart}`;
  const alerted = audit
    .call("slack", "alert", () => clients.chat.alert(alert))
    .then(() => true)
    .catch(() => false);

  let callSid: string | undefined;
  let queued = false;
  // A retry of this work must never ring the lead twice: the first attempt to call holds the claim for good.
  const mayCall =
    decision.action === "call" &&
    from !== undefined &&
    (await job.callClaims.claim(`lead-call:${job.leadId}`, CALL_CLAIM_TTL_SECONDS).catch(() => false));
  if (decision.action === "call" && from !== undefined && mayCall) {
    try {
      // Stored before the call exists, so the call's Durable Object finds them when the stream starts.
      const vars = leadCallVars({
        firstName: splitName(lead.name).firstname ?? lead.name,
        email: lead.email,
      });
      await audit.call("edge-state", "put_call_vars", () =>
        job.callVars.put(job.leadId, vars, LEAD_CALL_VARS_TTL_SECONDS),
      );
      const call = await audit.call("twilio", "create_call", () =>
        clients.telephony.createCall(
          outboundCallParams({
            publicBaseUrl: config.publicBaseUrl ?? job.requestOrigin,
            to: lead.phone,
            from,
            site: job.site,
            leadId: job.leadId,
          }),
        ),
      );
      callSid = call.sid;
      audit.record("lead.call_queued", { leadId: job.leadId, callSid }, { leadId: job.leadId, callSid });
    } catch (err) {
      // The call was not placed: a person must follow up instead.
      log.warn("speed-to-lead call failed; queued for a human", {
        leadId: job.leadId,
        error: errorText(err),
      });
    }
  }
  if (decision.action === "queue" || (decision.action === "call" && callSid === undefined)) {
    const why =
      decision.action !== "call"
        ? decisionText(decision)
        : mayCall
          ? "call could not be placed"
          : "a call for this lead was already attempted";
    const text = `Follow up web lead ${who} from ${lead.site_id}: ${why}. ${crmPart}`;
    queued = await audit
      .call("slack", "queue", () => clients.chat.queue(text))
      .then(() => true)
      .catch(() => false);
  }
  const alertLanded = await alerted;
  let recorded = true;

  const connect = clients.db;
  if (connect !== undefined) {
    await audit
      .call("postgres", "record_lead", async () => {
        const { session, release } = await connect();
        try {
          return await recordLead(session, {
            leadId: job.leadId,
            name: lead.name,
            email: lead.email,
            phone: lead.phone,
            intent: lead.intent,
            source: lead.source,
            siteId: lead.site_id,
            crmContactId: contactId,
            callSid,
            decision: `${decision.action}:${decision.reason}`,
            atMs: job.nowMs,
          });
        } finally {
          await release();
        }
      })
      .catch(() => {
        recorded = false;
      });
  } else {
    audit.record(
      "lead.captured",
      { leadId: job.leadId, siteId: lead.site_id, stored: "log_only" },
      { leadId: job.leadId },
    );
  }
  await persistAudit(connect, audit.events(), log);
  // Landed: the CRM has the lead, people were told, and the row exists. Otherwise the outbox retries.
  const landed = contactId !== undefined && (alertLanded || queued) && recorded;
  return { contactId, decision, callSid, queued, landed };
}
