/**
 * CampaignDialer: one Durable Object per campaign (idFromName(campaignId)), SQLite-backed, the source of
 * truth for dialing. A thin shell: RPC for the API and the campaign webhooks, and one alarm that flushes
 * the audit outbox to Postgres and runs a dialer tick (src/campaign/dialer.ts) at the planned moments.
 */
import { DurableObject } from "cloudflare:workers";
import { twilioClient } from "../src/call/wiring";
import { runDialerTick } from "../src/campaign/dialer";
import { TERMINAL_STATUSES } from "../src/campaign/scheduler";
import type { CampaignSettings, LeadInput } from "../src/campaign/schema";
import { type CampaignProgress, CampaignStore } from "../src/campaign/store";
import type { AppConfig } from "../src/config/config";
import { configFor } from "../src/config/context";
import { edgePortsFor } from "../src/lead/edge-ports";
import { isSuppressedInDb } from "../src/lead/records";
import { createLogger, type Logger } from "../src/lib/log";
import { PostgresEventStore } from "../src/store/event-store";
import { neonConnect } from "../src/store/neon";
import { Outbox } from "../src/store/outbox";
import { flushOutbox } from "../src/store/outbox-flush";

/** Extra time past the longest call before an attempt without a terminal status is closed as stale. */
const STALE_MARGIN_MS = 5 * 60_000;

/** What `inspect()` reports, for tests and operators. */
export interface CampaignInspection {
  progress: CampaignProgress | null;
  outboxSize: number;
  alarmAtMs: number | null;
}

export class CampaignDialer extends DurableObject<Env> {
  private readonly config: AppConfig;
  private readonly log: Logger;
  private readonly outbox: Outbox;
  private readonly store: CampaignStore;
  /** Set while `alarm()` runs; a wake requested meanwhile (a callback closed an attempt) re-runs it at once. */
  private inAlarm = false;
  private wokeDuringAlarm = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = configFor(env);
    this.log = createLogger({ component: "campaign-dialer" }, this.config.logLevel);
    const sql = ctx.storage.sql;
    const tx = <T>(fn: () => T): T => ctx.storage.transactionSync(fn);
    this.outbox = new Outbox(sql, { log: this.log });
    this.store = new CampaignStore(sql, tx, this.outbox);
  }

  /** Wake the alarm at `atMs` unless it is already due earlier. */
  private async wakeAt(atMs: number): Promise<void> {
    if (this.inAlarm) {
      this.wokeDuringAlarm = true;
      return;
    }
    const current = await this.ctx.storage.getAlarm();
    if (current === null || atMs < current) await this.ctx.storage.setAlarm(atMs);
  }

  /** Store the campaign's settings (once). */
  async create(settings: CampaignSettings): Promise<{ created: boolean }> {
    const created = this.store.create(settings);
    if (created) await this.wakeAt(Date.now());
    return { created };
  }

  /** The campaign's settings, or null when this instance holds none. */
  async settings(): Promise<CampaignSettings | null> {
    return this.store.settings();
  }

  /**
   * A lead's flow variables, loaded server-side by the call's Durable Object (the answer URL carries
   * only the lead id, so no personal data reaches Twilio's request logs).
   */
  async leadVars(leadId: string): Promise<Record<string, string> | null> {
    const lead = this.store.lead(leadId);
    if (!lead) return null;
    return { first_name: lead.firstName, email: lead.email, time_zone: lead.timeZone, lead_id: lead.id };
  }

  async addLeads(leads: LeadInput[]): Promise<{ added: number; duplicates: number }> {
    const result = this.store.addLeads(leads, Date.now());
    await this.wakeAt(Date.now());
    return result;
  }

  async start(): Promise<CampaignProgress | null> {
    this.store.setStatus("running", Date.now());
    await this.wakeAt(Date.now());
    return this.store.progress();
  }

  async pause(): Promise<CampaignProgress | null> {
    this.store.setStatus("paused", Date.now());
    await this.wakeAt(Date.now());
    return this.store.progress();
  }

  async progress(): Promise<CampaignProgress | null> {
    return this.store.progress();
  }

  /** A Twilio status callback for one of this campaign's calls: a terminal status closes its attempt. */
  async attemptStatus(callSid: string, status: string): Promise<{ known: boolean; closed: boolean }> {
    const attempt = this.store.attemptFor(callSid);
    if (!attempt) return { known: false, closed: false };
    if (!TERMINAL_STATUSES.has(status) || !attempt.open) return { known: true, closed: false };
    const end = status as "completed" | "busy" | "no-answer" | "failed" | "canceled";
    const next = this.store.closeAttempt(attempt.id, end, Date.now());
    await this.wakeAt(Date.now());
    return { known: true, closed: next !== null };
  }

  /** Twilio's async AMD verdict (`machine_end_beep`, `human`, ...) for one of this campaign's calls. */
  async attemptAmd(callSid: string, answeredBy: string): Promise<{ known: boolean }> {
    const known = this.store.recordAmd(callSid, answeredBy, Date.now());
    if (known) await this.wakeAt(Date.now());
    return { known };
  }

  /** What the call achieved, reported by the call engine when its flow books or records an opt-out. */
  async callOutcome(
    callSid: string,
    outcome: { booked?: boolean; optedOut?: boolean },
  ): Promise<{ known: boolean }> {
    const known = this.store.recordOutcome(callSid, outcome, Date.now());
    if (known) await this.wakeAt(Date.now());
    return { known };
  }

  async inspect(): Promise<CampaignInspection> {
    return {
      progress: this.store.progress(),
      outboxSize: this.outbox.size(),
      alarmAtMs: await this.ctx.storage.getAlarm(),
    };
  }

  /** Do-not-call: the edge set and, when configured, Postgres suppressions. Any failure throws (no dial). */
  private async isSuppressed(phone: string): Promise<boolean> {
    const checks: Promise<boolean>[] = [edgePortsFor(this.config, this.env).suppressions.has(phone)];
    const db = this.config.database;
    if (db) {
      checks.push(
        (async () => {
          const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
          try {
            return await isSuppressedInDb(session, phone);
          } finally {
            await release();
          }
        })(),
      );
    }
    const results = await Promise.all(checks);
    return results.some(Boolean);
  }

  /** Flush the audit outbox, then dial what the plan allows; the next alarm is the earliest due moment. */
  override async alarm(): Promise<void> {
    this.inAlarm = true;
    this.wokeDuringAlarm = false;
    try {
      await this.runAlarm();
    } finally {
      this.inAlarm = false;
    }
  }

  private async runAlarm(): Promise<void> {
    let flushDelayMs: number | undefined;
    const db = this.config.database;
    if (db && this.outbox.size() > 0) {
      const store = new PostgresEventStore(
        neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy }),
        this.log,
      );
      flushDelayMs = (await flushOutbox(this.outbox, store, this.log)).nextDelayMs;
    }
    const twilio = twilioClient(this.config);
    const tick = await runDialerTick(
      this.store,
      {
        isSuppressed: (phone) => this.isSuppressed(phone),
        createCall: (params) => twilio.createCall(params),
        nowMs: () => Date.now(),
        log: this.log,
      },
      { staleAfterMs: this.config.maxCallDurationMs + STALE_MARGIN_MS },
    );
    // Events written by this tick are flushed soon after, off the dialing path.
    if (db && this.outbox.size() > 0) flushDelayMs = Math.min(flushDelayMs ?? 250, 250);
    const now = Date.now();
    const due = [
      tick.wakeAtMs,
      flushDelayMs === undefined ? null : now + flushDelayMs,
      this.wokeDuringAlarm ? now : null,
    ].filter((t): t is number => t !== null);
    if (due.length > 0) await this.ctx.storage.setAlarm(Math.max(now, Math.min(...due)));
  }
}
