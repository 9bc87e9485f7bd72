/**
 * A campaign's state in its Durable Object's SQLite (the source of truth for dialing): settings, leads,
 * attempts, and the audit events of each change, appended to the outbox in the same transaction.
 * Runs over any `SqlStorageLike` (DO storage in Workers, node:sqlite in tests).
 */

import { EVENT_TYPES } from "../store/call-event";
import type { CallEventInput, Outbox, SqlStorageLike, SqlValue } from "../store/outbox";
import { type AttemptEnd, afterAttempt, isMachine, type LeadNext, type SchedulerState } from "./scheduler";
import type { CampaignSettings, LeadInput } from "./schema";

/** Whether the campaign dials. */
export type CampaignStatus = "draft" | "running" | "paused";

/** Counts reported by `GET /api/campaigns/:id`. */
export interface CampaignProgress {
  id: string;
  status: CampaignStatus;
  leads: number;
  dialed: number;
  inFlight: number;
  answered: number;
  voicemail: number;
  booked: number;
  optedOut: number;
  failed: number;
  unreachable: number;
  suppressed: number;
  noConsent: number;
  pending: number;
}

/** A stored lead, with what the dialer needs to place its call. */
export interface StoredLead {
  id: string;
  phone: string;
  firstName: string;
  email: string;
  timeZone: string;
  consentGiven: boolean;
  consentText: string;
  status: "pending" | "dialing" | "done";
  attempts: number;
}

type Row = Record<string, SqlValue>;

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS campaign (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, status TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS leads (id TEXT PRIMARY KEY, ord INTEGER NOT NULL, phone TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL, email TEXT NOT NULL, time_zone TEXT NOT NULL, consent_given INTEGER NOT NULL,
    consent_text TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_at_ms INTEGER NOT NULL DEFAULT 0, result TEXT)`,
  "CREATE INDEX IF NOT EXISTS leads_status_idx ON leads (status, next_at_ms)",
  `CREATE TABLE IF NOT EXISTS attempts (id TEXT PRIMARY KEY, call_sid TEXT UNIQUE, lead_id TEXT NOT NULL,
    attempt INTEGER NOT NULL, caller_id TEXT NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER,
    end_reason TEXT, answered_by TEXT, booked INTEGER NOT NULL DEFAULT 0, opted_out INTEGER NOT NULL DEFAULT 0)`,
  "CREATE INDEX IF NOT EXISTS attempts_started_idx ON attempts (started_ms)",
];

/** The campaign's storage. Construct once per Durable Object instance. */
export class CampaignStore {
  constructor(
    private readonly sql: SqlStorageLike,
    private readonly transactionSync: <T>(fn: () => T) => T,
    private readonly outbox: Outbox,
  ) {
    for (const ddl of SCHEMA) this.sql.exec(ddl);
  }

  private rows<T extends Row>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<T>(query, ...bindings).toArray();
  }

  private count(query: string, ...bindings: unknown[]): number {
    return Number(this.rows<{ n: number }>(query, ...bindings)[0]?.n ?? 0);
  }

  /** Append audit events in the current transaction, in the campaign's own event stream. */
  private audit(nowMs: number, type: string, payload: Record<string, unknown>): void {
    const settings = this.settings();
    if (!settings) return;
    const event: CallEventInput = { callSid: `campaign:${settings.id}`, atMs: nowMs, type, payload };
    this.outbox.appendInTransaction([event]);
  }

  settings(): CampaignSettings | null {
    const row = this.rows<{ json: string }>("SELECT json FROM campaign WHERE id = 1")[0];
    return row ? (JSON.parse(row.json) as CampaignSettings) : null;
  }

  status(): CampaignStatus {
    const row = this.rows<{ status: string }>("SELECT status FROM campaign WHERE id = 1")[0];
    return (row?.status as CampaignStatus | undefined) ?? "draft";
  }

  /** Store the settings once; false when this instance already holds a campaign. */
  create(settings: CampaignSettings): boolean {
    return this.transactionSync(() => {
      if (this.settings()) return false;
      this.sql.exec(
        "INSERT INTO campaign (id, json, status) VALUES (1, ?, 'draft')",
        JSON.stringify(settings),
      );
      this.audit(settings.createdAtMs, "campaign.created", { ...settings });
      return true;
    });
  }

  setStatus(status: CampaignStatus, nowMs: number): void {
    this.transactionSync(() => {
      this.sql.exec("UPDATE campaign SET status = ? WHERE id = 1", status);
      this.audit(nowMs, `campaign.${status === "running" ? "started" : status}`, { status });
    });
  }

  /** Add leads; a number already in the campaign is skipped. Consent is recorded for every added lead. */
  addLeads(leads: readonly LeadInput[], nowMs: number): { added: number; duplicates: number } {
    const settings = this.settings();
    if (!settings) throw new Error("campaign not created");
    return this.transactionSync(() => {
      let ord = this.count("SELECT coalesce(max(ord), -1) + 1 AS n FROM leads");
      let added = 0;
      for (const l of leads) {
        const id = `ld_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
        const inserted = this.rows(
          `INSERT INTO leads (id, ord, phone, first_name, email, time_zone, consent_given, consent_text, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT(phone) DO NOTHING RETURNING id`,
          id,
          ord,
          l.phone,
          l.first_name,
          l.email,
          l.timezone ?? settings.timeZone,
          l.consent.given ? 1 : 0,
          l.consent.text,
        );
        if (inserted.length === 0) continue;
        ord++;
        added++;
        this.audit(nowMs, EVENT_TYPES.consentRecorded, {
          phone: l.phone,
          kind: "campaign_lead",
          granted: l.consent.given,
          ...(l.consent.text ? { text: l.consent.text } : {}),
          leadId: id,
          campaignId: settings.id,
        });
      }
      return { added, duplicates: leads.length - added };
    });
  }

  /** The scheduler's view. Recent dials are attempts started within the pace window. */
  schedulerState(nowMs: number): SchedulerState {
    const settings = this.settings();
    if (!settings) throw new Error("campaign not created");
    return {
      running: this.status() === "running",
      maxConcurrentCalls: settings.maxConcurrentCalls,
      pacingPerMinute: settings.pacingPerMinute,
      callingWindow: settings.callingWindow,
      inFlight: this.count("SELECT count(*) AS n FROM attempts WHERE ended_ms IS NULL"),
      recentDialsMs: this.rows<{ started_ms: number }>(
        "SELECT started_ms FROM attempts WHERE started_ms > ?",
        nowMs - 60_000,
      ).map((r) => Number(r.started_ms)),
      leads: this.rows<{ id: string; time_zone: string; next_at_ms: number; ord: number }>(
        "SELECT id, time_zone, next_at_ms, ord FROM leads WHERE status = 'pending'",
      ).map((r) => ({
        id: r.id,
        timeZone: r.time_zone,
        status: "pending" as const,
        nextAtMs: Number(r.next_at_ms),
        order: Number(r.ord),
      })),
    };
  }

  lead(id: string): StoredLead | null {
    const r = this.rows<Row>("SELECT * FROM leads WHERE id = ?", id)[0];
    if (!r) return null;
    return {
      id: String(r.id),
      phone: String(r.phone),
      firstName: String(r.first_name),
      email: String(r.email),
      timeZone: String(r.time_zone),
      consentGiven: Number(r.consent_given) === 1,
      consentText: String(r.consent_text),
      status: String(r.status) as StoredLead["status"],
      attempts: Number(r.attempts),
    };
  }

  /** Settle a lead without dialling it (suppressed, no consent), with the reason in the audit trail. */
  skipLead(leadId: string, result: "suppressed" | "no_consent", nowMs: number): void {
    this.transactionSync(() => {
      const lead = this.lead(leadId);
      this.sql.exec("UPDATE leads SET status = 'done', result = ? WHERE id = ?", result, leadId);
      this.audit(nowMs, "campaign.dial_skipped", { leadId, phone: lead?.phone, reason: result });
    });
  }

  /** Put a lead back for later when a pre-dial check could not be made (fail closed: no dial now). */
  deferLead(leadId: string, untilMs: number, reason: string, nowMs: number): void {
    this.transactionSync(() => {
      this.sql.exec("UPDATE leads SET next_at_ms = ? WHERE id = ?", untilMs, leadId);
      this.audit(nowMs, "campaign.dial_deferred", { leadId, reason, untilMs });
    });
  }

  /**
   * Reserve an attempt before the call is created: the lead is marked dialing and the attempt (with its
   * caller ID and the lead's consent) is in the audit trail, so a crash mid-create can never dial twice.
   */
  reserveAttempt(leadId: string, callerId: string, nowMs: number): string {
    return this.transactionSync(() => {
      const lead = this.lead(leadId);
      if (lead?.status !== "pending") throw new Error("lead is not pending");
      const id = `at_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
      const attempt = lead.attempts + 1;
      this.sql.exec("UPDATE leads SET status = 'dialing', attempts = ? WHERE id = ?", attempt, leadId);
      this.sql.exec(
        "INSERT INTO attempts (id, lead_id, attempt, caller_id, started_ms) VALUES (?, ?, ?, ?, ?)",
        id,
        leadId,
        attempt,
        callerId,
        nowMs,
      );
      this.audit(nowMs, "campaign.attempt", {
        attemptId: id,
        leadId,
        phone: lead.phone,
        attempt,
        callerId,
        consent: { given: lead.consentGiven, text: lead.consentText },
      });
      return id;
    });
  }

  /** The call was created: bind the attempt to its CallSid. */
  attemptDialled(attemptId: string, callSid: string, nowMs: number): void {
    this.transactionSync(() => {
      this.sql.exec("UPDATE attempts SET call_sid = ? WHERE id = ?", callSid, attemptId);
      this.audit(nowMs, "campaign.attempt_dialled", { attemptId, callSid });
    });
  }

  /** Close an attempt (by attempt id) and move its lead on under the retry policy. Null when already closed. */
  closeAttempt(
    attemptId: string,
    end: AttemptEnd,
    nowMs: number,
    detail: Record<string, unknown> = {},
  ): LeadNext | null {
    const settings = this.settings();
    if (!settings) return null;
    return this.transactionSync(() => {
      const a = this.rows<Row>("SELECT * FROM attempts WHERE id = ? AND ended_ms IS NULL", attemptId)[0];
      if (!a) return null;
      const answeredBy = a.answered_by === null ? null : String(a.answered_by);
      const next = afterAttempt({ end, attempts: Number(a.attempt), answeredBy }, settings.retry, nowMs);
      this.sql.exec("UPDATE attempts SET ended_ms = ?, end_reason = ? WHERE id = ?", nowMs, end, attemptId);
      if (next.status === "pending") {
        this.sql.exec(
          "UPDATE leads SET status = 'pending', next_at_ms = ? WHERE id = ?",
          next.nextAtMs,
          a.lead_id,
        );
      } else {
        this.sql.exec("UPDATE leads SET status = 'done', result = ? WHERE id = ?", next.result, a.lead_id);
      }
      this.audit(nowMs, "campaign.attempt_closed", {
        attemptId,
        leadId: a.lead_id,
        callSid: a.call_sid,
        end,
        answeredBy,
        next,
        ...detail,
      });
      return next;
    });
  }

  /** The open attempt's id for a CallSid, or null. */
  attemptFor(callSid: string): { id: string; open: boolean } | null {
    const r = this.rows<{ id: string; ended_ms: number | null }>(
      "SELECT id, ended_ms FROM attempts WHERE call_sid = ?",
      callSid,
    )[0];
    return r ? { id: r.id, open: r.ended_ms === null } : null;
  }

  /** Twilio's AMD verdict for a call. */
  recordAmd(callSid: string, answeredBy: string, nowMs: number): boolean {
    return this.transactionSync(() => {
      const n = this.rows(
        "UPDATE attempts SET answered_by = ? WHERE call_sid = ? RETURNING id",
        answeredBy,
        callSid,
      );
      if (n.length > 0)
        this.audit(nowMs, "campaign.amd", { callSid, answeredBy, machine: isMachine(answeredBy) });
      return n.length > 0;
    });
  }

  /** What the call's flow achieved (reported by the call engine). */
  recordOutcome(callSid: string, o: { booked?: boolean; optedOut?: boolean }, nowMs: number): boolean {
    return this.transactionSync(() => {
      const n = this.rows(
        "UPDATE attempts SET booked = max(booked, ?), opted_out = max(opted_out, ?) WHERE call_sid = ? RETURNING id",
        o.booked ? 1 : 0,
        o.optedOut ? 1 : 0,
        callSid,
      );
      if (n.length > 0) this.audit(nowMs, "campaign.call_outcome", { callSid, ...o });
      return n.length > 0;
    });
  }

  /** Open attempts started before `beforeMs` (their status callback never came). */
  staleAttempts(beforeMs: number): string[] {
    return this.rows<{ id: string }>(
      "SELECT id FROM attempts WHERE ended_ms IS NULL AND started_ms < ?",
      beforeMs,
    ).map((r) => r.id);
  }

  /** Earliest start of an open attempt, for the stale sweep's alarm. */
  oldestOpenAttemptMs(): number | null {
    const r = this.rows<{ m: number | null }>(
      "SELECT min(started_ms) AS m FROM attempts WHERE ended_ms IS NULL",
    )[0];
    return r?.m === null || r?.m === undefined ? null : Number(r.m);
  }

  progress(): CampaignProgress | null {
    const settings = this.settings();
    if (!settings) return null;
    const leads = (where: string) => this.count(`SELECT count(*) AS n FROM leads WHERE ${where}`);
    const attempts = (where: string) => this.count(`SELECT count(*) AS n FROM attempts WHERE ${where}`);
    return {
      id: settings.id,
      status: this.status(),
      leads: leads("1 = 1"),
      dialed: attempts("call_sid IS NOT NULL"),
      inFlight: attempts("ended_ms IS NULL"),
      answered: attempts(
        "end_reason = 'completed' AND (answered_by IS NULL OR (answered_by NOT LIKE 'machine%' AND answered_by <> 'fax'))",
      ),
      voicemail: attempts("answered_by LIKE 'machine%' OR answered_by = 'fax'"),
      booked: attempts("booked = 1"),
      optedOut: attempts("opted_out = 1"),
      failed: leads("result = 'failed'"),
      unreachable: leads("result IN ('no_answer', 'busy')"),
      suppressed: leads("result = 'suppressed'"),
      noConsent: leads("result = 'no_consent'"),
      pending: leads("status IN ('pending', 'dialing')"),
    };
  }
}
