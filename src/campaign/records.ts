/**
 * Postgres rows of the campaign API (campaigns, campaign_leads): written when DATABASE_URL is set, each
 * statement idempotent (ON CONFLICT DO NOTHING / UPDATE), so a retried request writes nothing twice.
 */
import type { SqlSession } from "../store/sql-client";
import type { CampaignSettings, LeadInput } from "./schema";
import type { CampaignStatus } from "./store";

/** Insert the campaign row (a replay inserts nothing). */
export async function insertCampaign(session: SqlSession, s: CampaignSettings): Promise<void> {
  await session.query(
    `INSERT INTO campaigns (id, flow_id, caller_id, time_zone, calling_window, max_concurrent, pacing_per_minute,
       retry_policy, status, created_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8::jsonb, 'draft', to_timestamp($9::bigint / 1000.0))
     ON CONFLICT (id) DO NOTHING`,
    [
      s.id,
      s.flow,
      s.callerId,
      s.timeZone,
      JSON.stringify(s.callingWindow),
      s.maxConcurrentCalls,
      s.pacingPerMinute,
      JSON.stringify(s.retry),
      s.createdAtMs,
    ],
  );
}

/** Insert the leads of one batch in one statement (a number already in the campaign is skipped). */
export async function insertCampaignLeads(
  session: SqlSession,
  campaignId: string,
  leads: readonly LeadInput[],
  nowMs: number,
): Promise<void> {
  const rows = leads.map((l) => ({
    phone: l.phone,
    first_name: l.first_name,
    email: l.email,
    time_zone: l.timezone ?? null,
    consent_given: l.consent.given,
    consent_text: l.consent.text,
  }));
  await session.query(
    `INSERT INTO campaign_leads (campaign_id, phone, first_name, email, time_zone, consent_given, consent_text, added_at)
     SELECT $1, r.phone, r.first_name, r.email, r.time_zone, r.consent_given, r.consent_text,
       to_timestamp($3::bigint / 1000.0)
     FROM jsonb_to_recordset($2::jsonb) AS r(phone text, first_name text, email text, time_zone text,
       consent_given boolean, consent_text text)
     ON CONFLICT (campaign_id, phone) DO NOTHING`,
    [campaignId, JSON.stringify(rows), nowMs],
  );
}

/** Record a start or pause. */
export async function updateCampaignStatus(
  session: SqlSession,
  campaignId: string,
  status: CampaignStatus,
): Promise<void> {
  await session.query("UPDATE campaigns SET status = $2, updated_at = now() WHERE id = $1", [
    campaignId,
    status,
  ]);
}
