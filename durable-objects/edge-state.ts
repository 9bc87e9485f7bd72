/**
 * EdgeState: the embedded stand-in for Redis at the edge (webhook claims, rate limits, idempotent
 * responses, the do-not-call set, dashboard session epochs) when Upstash is not configured. SQLite-backed; the logic lives in
 * src/lead/edge-store.ts and this class only adds RPC and an hourly alarm that sweeps expired keys.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type EdgeStateRpc,
  EdgeStoreCore,
  type ReplayLookup,
  type SessionEpoch,
  type StoredResponse,
} from "../src/lead/edge-store";
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

  async sessionEpoch(name: string): Promise<SessionEpoch> {
    return this.core.sessionEpoch(name);
  }

  async rotateSessionEpoch(name: string): Promise<SessionEpoch> {
    return this.core.rotateSessionEpoch(name);
  }

  override async alarm(): Promise<void> {
    const left = await this.core.sweep();
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }
}
