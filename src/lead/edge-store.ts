/**
 * The embedded edge store: webhook claims, rate-limit windows, replayable responses for idempotency
 * keys, the do-not-call set (by number hash), web leads' call variables and the dashboard's session
 * epochs, over Durable Object key-value storage with explicit expiry. Pure
 * logic over a storage interface, so the `EdgeState` Durable Object and the Node bench share it.
 */
import { sha256Hex } from "../integrations/crypto";
import type { RateLimitResult } from "../store/call-state";
import {
  DurableObjectIdempotencyStore,
  DurableObjectRateLimiter,
  type KeyValueStorage,
} from "../store/do-state";

/** The storage this store needs: `DurableObjectStorage` satisfies it. */
export interface EdgeStorage extends KeyValueStorage {
  list<T = unknown>(options?: { prefix?: string; limit?: number }): Promise<Map<string, T>>;
}

/** A response kept for an idempotency key, replayed verbatim to a repeat of the same request. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** What a replay lookup found: nothing (this caller goes first), a request still running, or its answer. */
export type ReplayLookup =
  | { state: "new" }
  | { state: "pending" }
  | { state: "done"; response: StoredResponse };

/**
 * A sign-in epoch: sessions are signed with `secret` and carry `version`. Rotating it (sign-out)
 * retires every cookie issued before. Random, so a cookie is no offline oracle for the password.
 */
export interface SessionEpoch {
  version: number;
  secret: string;
}

/** A fresh 256-bit epoch secret, base64url. */
export function randomEpochSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Hashed with every do-not-call number: fixed for the app, so the stored hashes are not a generic
 * table of phone-number hashes. Changing it orphans every hashed entry: never change it.
 */
export const SUPPRESSION_HASH_PREFIX = "voice-agent/do-not-call/v1:";

/**
 * The do-not-call member for an E.164 number: `sha256:` + SHA-256 of the prefixed number, so the set
 * proves an opt-out (hash + time + source) without holding the number itself.
 */
export async function suppressionHash(phone: string): Promise<string> {
  return `sha256:${await sha256Hex(`${SUPPRESSION_HASH_PREFIX}${phone}`)}`;
}

/**
 * A speed-to-lead call's flow variables (first name, email …), kept server-side under the lead id
 * so that Twilio's answer URL (which Twilio logs) carries only the id.
 */
export type LeadCallVars = Record<string, string>;

/** How long a lead's call variables are kept: far beyond the call they are for. */
export const LEAD_CALL_VARS_TTL_SECONDS = 86_400;

/** The RPC surface of the `EdgeState` Durable Object (and of the in-memory stand-in used by the bench). */
export interface EdgeStateRpc {
  claim(key: string, ttlSeconds: number): Promise<boolean>;
  release(key: string): Promise<void>;
  limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult>;
  resetLimit(key: string, windowSeconds: number): Promise<void>;
  beginReplay(key: string, pendingTtlSeconds: number): Promise<ReplayLookup>;
  completeReplay(key: string, response: StoredResponse, ttlSeconds: number): Promise<void>;
  abandonReplay(key: string): Promise<void>;
  /** Whether the number is on the do-not-call list (by hash, or plain for entries written before hashing). */
  isSuppressed(phone: string): Promise<boolean>;
  /** Add the number, stored as its hash with time and source. */
  addSuppression(phone: string, source: string): Promise<void>;
  /** Erasure: replace a plain entry for the number by its hash (time and source kept). */
  minimiseSuppression(phone: string): Promise<void>;
  putLeadCallVars(leadId: string, vars: LeadCallVars, ttlSeconds: number): Promise<void>;
  /** The lead's call variables, or undefined when unknown or expired. */
  leadCallVars(leadId: string): Promise<LeadCallVars | undefined>;
  deleteLeadCallVars(leadId: string): Promise<void>;
  /** Keep an accepted lead until its after-work lands; it is due for a (re)try at `dueAtMs`. */
  putLead(id: string, record: unknown, dueAtMs: number): Promise<void>;
  /** The after-work landed: forget the lead. */
  finishLead(id: string): Promise<void>;
  sessionEpoch(name: string): Promise<SessionEpoch>;
  rotateSessionEpoch(name: string): Promise<SessionEpoch>;
}

/** An accepted lead kept in the outbox: the job as the route built it, and its retry bookkeeping. */
export interface OutboxEntry {
  record: unknown;
  attempts: number;
  dueAtMs: number;
}

interface Expiring<T> {
  value: T;
  expiresAtMs: number;
}

type ReplayEntry = { pending: true } | { pending: false; response: StoredResponse };

/** A do-not-call entry: proof of the opt-out, minimised to time and source (the key is the hash). */
interface SuppressionEntry {
  source: string;
  atMs: number;
}

const EXPIRING_PREFIXES = ["idem:", "rl:", "replay:", "callvars:"] as const;

/** The store over one storage. Atomic per Durable Object: its input gates serialise each read-then-write. */
export class EdgeStoreCore implements EdgeStateRpc {
  private readonly claims: DurableObjectIdempotencyStore;
  private readonly limiter: DurableObjectRateLimiter;

  constructor(
    private readonly storage: EdgeStorage,
    private readonly now: () => number = Date.now,
  ) {
    this.claims = new DurableObjectIdempotencyStore(storage, now);
    this.limiter = new DurableObjectRateLimiter(storage, now);
  }

  claim(key: string, ttlSeconds: number): Promise<boolean> {
    return this.claims.claim(key, ttlSeconds);
  }

  async release(key: string): Promise<void> {
    await this.storage.delete(`idem:${key}`);
  }

  limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult> {
    return this.limiter.limit(key, max, windowSeconds);
  }

  resetLimit(key: string, windowSeconds: number): Promise<void> {
    return this.limiter.reset(key, windowSeconds);
  }

  async beginReplay(key: string, pendingTtlSeconds: number): Promise<ReplayLookup> {
    const k = `replay:${key}`;
    const nowMs = this.now();
    const entry = await this.storage.get<Expiring<ReplayEntry>>(k);
    if (entry !== undefined && entry.expiresAtMs > nowMs) {
      return entry.value.pending ? { state: "pending" } : { state: "done", response: entry.value.response };
    }
    await this.storage.put<Expiring<ReplayEntry>>(k, {
      value: { pending: true },
      expiresAtMs: nowMs + pendingTtlSeconds * 1000,
    });
    return { state: "new" };
  }

  async completeReplay(key: string, response: StoredResponse, ttlSeconds: number): Promise<void> {
    await this.storage.put<Expiring<ReplayEntry>>(`replay:${key}`, {
      value: { pending: false, response },
      expiresAtMs: this.now() + ttlSeconds * 1000,
    });
  }

  async abandonReplay(key: string): Promise<void> {
    await this.storage.delete(`replay:${key}`);
  }

  async isSuppressed(phone: string): Promise<boolean> {
    if ((await this.storage.get(`sup:${await suppressionHash(phone)}`)) !== undefined) return true;
    // Entries written before the set was hashed hold the plain number.
    return (await this.storage.get(`sup:${phone}`)) !== undefined;
  }

  async addSuppression(phone: string, source: string): Promise<void> {
    const key = `sup:${await suppressionHash(phone)}`;
    // The first opt-out is the proof: a later one never moves its time or source.
    if ((await this.storage.get(key)) !== undefined) return;
    await this.storage.put<SuppressionEntry>(key, { source, atMs: this.now() });
  }

  async minimiseSuppression(phone: string): Promise<void> {
    const plain = await this.storage.get<SuppressionEntry>(`sup:${phone}`);
    if (plain === undefined) return;
    const key = `sup:${await suppressionHash(phone)}`;
    const hashed = await this.storage.get<SuppressionEntry>(key);
    // Keep the earlier of the two as the proof.
    if (hashed === undefined || hashed.atMs > plain.atMs) {
      await this.storage.put<SuppressionEntry>(key, { source: plain.source, atMs: plain.atMs });
    }
    await this.storage.delete(`sup:${phone}`);
  }

  async putLeadCallVars(leadId: string, vars: LeadCallVars, ttlSeconds: number): Promise<void> {
    await this.storage.put<Expiring<LeadCallVars>>(`callvars:${leadId}`, {
      value: vars,
      expiresAtMs: this.now() + ttlSeconds * 1000,
    });
  }

  async leadCallVars(leadId: string): Promise<LeadCallVars | undefined> {
    const entry = await this.storage.get<Expiring<LeadCallVars>>(`callvars:${leadId}`);
    return entry !== undefined && entry.expiresAtMs > this.now() ? entry.value : undefined;
  }

  async deleteLeadCallVars(leadId: string): Promise<void> {
    await this.storage.delete(`callvars:${leadId}`);
  }

  async putLead(id: string, record: unknown, dueAtMs: number): Promise<void> {
    await this.storage.put<OutboxEntry>(`lead:${id}`, { record, attempts: 0, dueAtMs });
  }

  async finishLead(id: string): Promise<void> {
    await this.storage.delete(`lead:${id}`);
  }

  /**
   * Leads whose after-work is due at `nowMs`, each leased again (attempts + 1, due at
   * `nowMs + leaseMs(attempts)`) before it is handed out, so a crash mid-retry means another retry.
   */
  async leaseDueLeads(
    nowMs: number,
    leaseMs: (attempts: number) => number,
    max = 10,
  ): Promise<{ id: string; entry: OutboxEntry }[]> {
    const out: { id: string; entry: OutboxEntry }[] = [];
    const entries = await this.storage.list<OutboxEntry>({ prefix: "lead:" });
    for (const [key, entry] of entries) {
      if (out.length >= max) break;
      if (entry.dueAtMs > nowMs) continue;
      const next: OutboxEntry = {
        ...entry,
        attempts: entry.attempts + 1,
        dueAtMs: nowMs + leaseMs(entry.attempts + 1),
      };
      await this.storage.put(key, next);
      out.push({ id: key.slice("lead:".length), entry: next });
    }
    return out;
  }

  /** When the next outbox lead falls due; undefined when the outbox is empty. */
  async nextLeadDueMs(): Promise<number | undefined> {
    let next: number | undefined;
    for (const entry of (await this.storage.list<OutboxEntry>({ prefix: "lead:" })).values()) {
      next = next === undefined ? entry.dueAtMs : Math.min(next, entry.dueAtMs);
    }
    return next;
  }

  /** The current epoch of `name`, created on first use. Epochs never expire (not swept). */
  async sessionEpoch(name: string): Promise<SessionEpoch> {
    const k = `epoch:${name}`;
    const found = await this.storage.get<SessionEpoch>(k);
    if (found !== undefined) return found;
    const first = { version: 1, secret: randomEpochSecret() };
    await this.storage.put(k, first);
    return first;
  }

  /** Replace the epoch of `name` with the next version and a new secret. */
  async rotateSessionEpoch(name: string): Promise<SessionEpoch> {
    const k = `epoch:${name}`;
    const found = await this.storage.get<SessionEpoch>(k);
    const next = { version: (found?.version ?? 0) + 1, secret: randomEpochSecret() };
    await this.storage.put(k, next);
    return next;
  }

  /**
   * Delete expired claims, windows and replays (storage has no TTL of its own). Returns how many
   * expiring entries are left, so the caller knows whether to sweep again.
   */
  async sweep(batch = 1_000): Promise<number> {
    const nowMs = this.now();
    let left = 0;
    for (const prefix of EXPIRING_PREFIXES) {
      const entries = await this.storage.list<Expiring<unknown>>({ prefix, limit: batch });
      for (const [key, entry] of entries) {
        if (entry.expiresAtMs <= nowMs) await this.storage.delete(key);
        else left++;
      }
    }
    return left;
  }
}

/** A storage over a Map, for Node (bench, unit tests). Same semantics as DO storage for these calls. */
export function memoryEdgeStorage(): EdgeStorage {
  const map = new Map<string, unknown>();
  return {
    get: async <T>(key: string) => map.get(key) as T | undefined,
    put: async <T>(key: string, value: T) => {
      map.set(key, structuredClone(value));
    },
    delete: async (key: string) => map.delete(key),
    list: async <T>(options: { prefix?: string; limit?: number } = {}) => {
      const out = new Map<string, T>();
      for (const [k, v] of [...map.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        if (options.prefix !== undefined && !k.startsWith(options.prefix)) continue;
        out.set(k, v as T);
        if (options.limit !== undefined && out.size >= options.limit) break;
      }
      return out;
    },
  };
}
