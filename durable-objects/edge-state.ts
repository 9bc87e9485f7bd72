/**
 * EdgeState: the embedded stand-in for Redis at the edge (webhook claims, rate limits, idempotent
 * responses, the do-not-call set, web leads' call variables, dashboard session epochs) when Upstash
 * is not configured.
 * SQLite-backed; the logic lives in src/lead/edge-store.ts and this class only adds RPC and an
 * alarm that retries the lead outbox (accepted leads whose after-work has not landed) and sweeps
 * expired keys hourly.
 */
import { DurableObject } from "cloudflare:workers";
import { configFor } from "../src/config/context";
import { clockFor } from "../src/lead/clients";
import { durableObjectEdgePorts, type EdgeStateNamespace } from "../src/lead/edge-ports";
import {
  type EdgeStateRpc,
  EdgeStoreCore,
  type LeadCallVars,
  type ReplayLookup,
  type SessionEpoch,
  type StoredResponse,
} from "../src/lead/edge-store";
import {
  OUTBOX_MAX_ATTEMPTS,
  outboxLeaseMs,
  type PendingLead,
  runPendingLead,
} from "../src/lead/lead-outbox";
import { createLogger } from "../src/lib/log";
import type { RateLimitResult } from "../src/store/call-state";

const SWEEP_EVERY_MS = 3_600_000;

/** One instance per shard name (see src/lead/edge-ports.ts); every method is atomic within it. */
export class EdgeState extends DurableObject<Env> implements EdgeStateRpc {
  private readonly core: EdgeStoreCore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.core = new EdgeStoreCore(ctx.storage);
  }

  private async scheduleSweep(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
    }
  }

  /** Make the alarm fire no later than `atMs`. */
  private async alarmBy(atMs: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > atMs) await this.ctx.storage.setAlarm(atMs);
  }

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const first = await this.core.claim(key, ttlSeconds);
    if (first) await this.scheduleSweep();
    return first;
  }

  async release(key: string): Promise<void> {
    await this.core.release(key);
  }

  async limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult> {
    const result = await this.core.limit(key, max, windowSeconds);
    await this.scheduleSweep();
    return result;
  }

  async resetLimit(key: string, windowSeconds: number): Promise<void> {
    await this.core.resetLimit(key, windowSeconds);
  }

  async beginReplay(key: string, pendingTtlSeconds: number): Promise<ReplayLookup> {
    const found = await this.core.beginReplay(key, pendingTtlSeconds);
    if (found.state === "new") await this.scheduleSweep();
    return found;
  }

  async completeReplay(key: string, response: StoredResponse, ttlSeconds: number): Promise<void> {
    await this.core.completeReplay(key, response, ttlSeconds);
  }

  async abandonReplay(key: string): Promise<void> {
    await this.core.abandonReplay(key);
  }

  async isSuppressed(phone: string): Promise<boolean> {
    return this.core.isSuppressed(phone);
  }

  async addSuppression(phone: string, source: string): Promise<void> {
    await this.core.addSuppression(phone, source);
  }

  async minimiseSuppression(phone: string): Promise<void> {
    await this.core.minimiseSuppression(phone);
  }

  async putLeadCallVars(leadId: string, vars: LeadCallVars, ttlSeconds: number): Promise<void> {
    await this.core.putLeadCallVars(leadId, vars, ttlSeconds);
    await this.scheduleSweep();
  }

  async leadCallVars(leadId: string): Promise<LeadCallVars | undefined> {
    return this.core.leadCallVars(leadId);
  }

  async deleteLeadCallVars(leadId: string): Promise<void> {
    await this.core.deleteLeadCallVars(leadId);
  }

  async putLead(id: string, record: unknown, dueAtMs: number): Promise<void> {
    await this.core.putLead(id, record, dueAtMs);
    await this.alarmBy(dueAtMs);
  }

  async finishLead(id: string): Promise<void> {
    await this.core.finishLead(id);
  }

  /** Retry the outbox leads that are due; each is leased first, so a crash here means another retry. */
  private async retryDueLeads(): Promise<void> {
    const due = await this.core.leaseDueLeads(Date.now(), outboxLeaseMs);
    if (due.length === 0) return;
    const config = configFor(this.env);
    const log = createLogger({ component: "edge-state" }, config.logLevel);
    const ports = durableObjectEdgePorts(this.env.EDGE_STATE as unknown as EdgeStateNamespace);
    for (const { id, entry } of due) {
      if (entry.attempts > OUTBOX_MAX_ATTEMPTS) {
        // Parked: kept (not dropped) for a person; logged once per lease.
        log.error("lead after-work never landed; parked in the outbox", {
          leadId: id,
          attempts: entry.attempts,
        });
        continue;
      }
      try {
        const result = await runPendingLead(entry.record as PendingLead, {
          config,
          suppressions: ports.suppressions,
          callVars: ports.callVars,
          callClaims: ports.claims,
          log,
          nowMs: clockFor(config)(),
        });
        if (result.landed) await this.core.finishLead(id);
      } catch (err) {
        log.warn("lead after-work retry failed", {
          leadId: id,
          attempts: entry.attempts,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  async sessionEpoch(name: string): Promise<SessionEpoch> {
    return this.core.sessionEpoch(name);
  }

  async rotateSessionEpoch(name: string): Promise<SessionEpoch> {
    return this.core.rotateSessionEpoch(name);
  }

  override async alarm(): Promise<void> {
    await this.retryDueLeads();
    const left = await this.core.sweep();
    const nextLead = await this.core.nextLeadDueMs();
    const nextSweep = left > 0 ? Date.now() + SWEEP_EVERY_MS : undefined;
    const next = Math.min(nextLead ?? Number.POSITIVE_INFINITY, nextSweep ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }
}
