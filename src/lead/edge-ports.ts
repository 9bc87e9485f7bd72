/**
 * The edge-state ports the public endpoints use (claims with release, rate limits, replayable
 * responses, the do-not-call set, web leads' call variables, the dashboard's session epochs) and the choice of adapter: Upstash Redis when configured,
 * otherwise the `EdgeState` Durable Object, sharded by key so no single instance is hot.
 */
import type { Redis } from "@upstash/redis/cloudflare";
import type { AppConfig } from "../config/config";
import type { IdempotencyStore, RateLimiter } from "../store/call-state";
import { createUpstashClient, UpstashIdempotencyStore, UpstashRateLimiter } from "../store/upstash-state";
import {
  type EdgeStateRpc,
  EdgeStoreCore,
  type LeadCallVars,
  memoryEdgeStorage,
  type ReplayLookup,
  randomEpochSecret,
  type SessionEpoch,
  type StoredResponse,
  suppressionHash,
} from "./edge-store";

/** Claims that can be given back when the work they guarded failed, so a retry may try again. */
export interface ClaimStore extends IdempotencyStore {
  release(key: string): Promise<void>;
}

/** Idempotency keys whose first response is kept and replayed. */
export interface ReplayStore {
  begin(key: string, pendingTtlSeconds: number): Promise<ReplayLookup>;
  complete(key: string, response: StoredResponse, ttlSeconds: number): Promise<void>;
  abandon(key: string): Promise<void>;
}

/**
 * The do-not-call set kept beside the other edge state (Postgres `suppressions` is the durable one).
 * Numbers are stored as `suppressionHash`; plain entries written before that still match.
 */
export interface SuppressionSet {
  has(phone: string): Promise<boolean>;
  add(phone: string, source: string): Promise<void>;
  /** Erasure: a plain entry for the number becomes its hash, so the number stays blocked. */
  minimise(phone: string): Promise<void>;
}

/** Web leads' call variables by lead id, so the answer URL carries only the id (see speed-to-lead.ts). */
export interface LeadCallVarsStore {
  put(leadId: string, vars: LeadCallVars, ttlSeconds: number): Promise<void>;
  get(leadId: string): Promise<LeadCallVars | undefined>;
  delete(leadId: string): Promise<void>;
}

/** Accepted leads kept until their after-work lands (retried by the Durable Object's alarm). */
export interface LeadOutbox {
  put(id: string, record: unknown, dueAtMs: number): Promise<void>;
  finish(id: string): Promise<void>;
}

/** Fixed windows that can also be cleared, so a counter of failures starts over after a success. */
export interface ResettableRateLimiter extends RateLimiter {
  reset(key: string, windowSeconds: number): Promise<void>;
}

/** Sign-in epochs by name (see `SessionEpoch`): read on every signed-in request, rotated on sign-out. */
export interface SessionEpochs {
  current(name: string): Promise<SessionEpoch>;
  rotate(name: string): Promise<SessionEpoch>;
}

/** Everything the public endpoints keep at the edge. */
export interface EdgePorts {
  claims: ClaimStore;
  limiter: ResettableRateLimiter;
  replays: ReplayStore;
  suppressions: SuppressionSet;
  callVars: LeadCallVarsStore;
  outbox: LeadOutbox;
  sessions: SessionEpochs;
}

/** The part of a Durable Object namespace used here (the real binding or the bench's stand-in). */
export interface EdgeStateNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): EdgeStateRpc;
}

/** Shards for claims, windows and replays. Suppressions live in one instance so the set is whole. */
export const EDGE_SHARDS = 16;

/** FNV-1a, enough to spread keys over shards. */
export function shardOf(key: string, shards = EDGE_SHARDS): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/** Ports over the `EdgeState` Durable Object. */
export function durableObjectEdgePorts(ns: EdgeStateNamespace): EdgePorts {
  const shard = (key: string) => ns.get(ns.idFromName(`edge:${shardOf(key)}`));
  const dnc = () => ns.get(ns.idFromName("suppressions"));
  return {
    claims: {
      claim: (key, ttl) => shard(key).claim(key, ttl),
      release: (key) => shard(key).release(key),
    },
    limiter: {
      limit: (key, max, windowSeconds) => shard(key).limit(key, max, windowSeconds),
      reset: (key, windowSeconds) => shard(key).resetLimit(key, windowSeconds),
    },
    replays: {
      begin: (key, ttl) => shard(key).beginReplay(key, ttl),
      complete: (key, response, ttl) => shard(key).completeReplay(key, response, ttl),
      abandon: (key) => shard(key).abandonReplay(key),
    },
    suppressions: {
      has: (phone) => dnc().isSuppressed(phone),
      add: (phone, source) => dnc().addSuppression(phone, source),
      minimise: (phone) => dnc().minimiseSuppression(phone),
    },
    callVars: {
      put: (id, vars, ttl) => shard(`callvars:${id}`).putLeadCallVars(id, vars, ttl),
      get: (id) => shard(`callvars:${id}`).leadCallVars(id),
      delete: (id) => shard(`callvars:${id}`).deleteLeadCallVars(id),
    },
    outbox: durableObjectOutbox(ns),
    sessions: {
      current: (name) => shard(`epoch:${name}`).sessionEpoch(name),
      rotate: (name) => shard(`epoch:${name}`).rotateSessionEpoch(name),
    },
  };
}

/** The lead outbox over the `EdgeState` Durable Object (Redis has no alarm to retry from). */
export function durableObjectOutbox(ns: EdgeStateNamespace): LeadOutbox {
  const shard = (id: string) => ns.get(ns.idFromName(`edge:${shardOf(`lead:${id}`)}`));
  return {
    put: (id, record, dueAtMs) => shard(id).putLead(id, record, dueAtMs),
    finish: (id) => shard(id).finishLead(id),
  };
}

/** No durable outbox is configured: accepting a lead must fail rather than risk losing it. */
const missingOutbox: LeadOutbox = {
  put: () => Promise.reject(new Error("EDGE_STATE binding missing: no durable lead outbox")),
  finish: async () => undefined,
};

/**
 * One store whose calls run one at a time, as a Durable Object's input gates make its read-then-write
 * methods atomic; without this, two concurrent first reads of an epoch could each create one.
 */
function serialisedStore(core: EdgeStoreCore): EdgeStateRpc {
  let tail: Promise<unknown> = Promise.resolve();
  const run = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };
  return {
    claim: (key, ttl) => run(() => core.claim(key, ttl)),
    release: (key) => run(() => core.release(key)),
    limit: (key, max, windowSeconds) => run(() => core.limit(key, max, windowSeconds)),
    resetLimit: (key, windowSeconds) => run(() => core.resetLimit(key, windowSeconds)),
    beginReplay: (key, ttl) => run(() => core.beginReplay(key, ttl)),
    completeReplay: (key, response, ttl) => run(() => core.completeReplay(key, response, ttl)),
    abandonReplay: (key) => run(() => core.abandonReplay(key)),
    isSuppressed: (phone) => run(() => core.isSuppressed(phone)),
    addSuppression: (phone, source) => run(() => core.addSuppression(phone, source)),
    minimiseSuppression: (phone) => run(() => core.minimiseSuppression(phone)),
    putLeadCallVars: (id, vars, ttl) => run(() => core.putLeadCallVars(id, vars, ttl)),
    leadCallVars: (id) => run(() => core.leadCallVars(id)),
    deleteLeadCallVars: (id) => run(() => core.deleteLeadCallVars(id)),
    sessionEpoch: (name) => run(() => core.sessionEpoch(name)),
    rotateSessionEpoch: (name) => run(() => core.rotateSessionEpoch(name)),
    putLead: (id, record, dueAtMs) => run(() => core.putLead(id, record, dueAtMs)),
    finishLead: (id) => run(() => core.finishLead(id)),
  };
}

/**
 * An in-memory stand-in for the EDGE_STATE namespace, one store per name like one Durable Object per
 * name, each serialised like one: for Node harnesses (bench, the standalone dashboard) without workerd.
 */
export function memoryEdgeNamespace(): EdgeStateNamespace {
  const stores = new Map<string, EdgeStateRpc>();
  return {
    idFromName: (name) => ({ toString: () => name, name }) as unknown as DurableObjectId,
    get: (id) => {
      const name = id.toString();
      let store = stores.get(name);
      if (store === undefined) {
        store = serialisedStore(new EdgeStoreCore(memoryEdgeStorage()));
        stores.set(name, store);
      }
      return store;
    },
  };
}

const epochEntry = (raw: unknown): SessionEpoch | undefined => {
  const parsed = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { version, secret } = parsed as { version?: unknown; secret?: unknown };
  return typeof version === "number" && typeof secret === "string" ? { version, secret } : undefined;
};

const callVarsEntry = (raw: unknown): LeadCallVars | undefined => {
  const parsed = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const vars: LeadCallVars = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") vars[k] = v;
  return vars;
};

const replayEntry = (raw: unknown): ReplayLookup => {
  const parsed = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
  if (typeof parsed === "object" && parsed !== null && "status" in parsed && "body" in parsed) {
    return { state: "done", response: parsed as StoredResponse };
  }
  return { state: "pending" };
};

/**
 * Ports over Upstash Redis: `SET NX EX` claims, INCR windows, JSON replays, a Redis set of number
 * hashes for do-not-call (plain members from before still match), JSON call variables with EX.
 */
export function upstashEdgePorts(redis: Redis, outbox: LeadOutbox = missingOutbox): EdgePorts {
  const claims = new UpstashIdempotencyStore(redis);
  return {
    claims: {
      claim: (key, ttl) => claims.claim(key, ttl),
      release: async (key) => {
        await redis.del(`idem:${key}`);
      },
    },
    limiter: new UpstashRateLimiter(redis),
    replays: {
      begin: async (key, ttl) => {
        const k = `replay:${key}`;
        const first = await redis.set(k, "pending", { nx: true, ex: Math.max(1, Math.ceil(ttl)) });
        if (first === "OK") return { state: "new" };
        const raw = await redis.get<unknown>(k);
        // Expired between the SET and the GET: the next attempt goes first.
        return raw === null ? { state: "pending" } : replayEntry(raw);
      },
      complete: async (key, response, ttl) => {
        await redis.set(`replay:${key}`, JSON.stringify(response), { ex: Math.max(1, Math.ceil(ttl)) });
      },
      abandon: async (key) => {
        await redis.del(`replay:${key}`);
      },
    },
    suppressions: {
      has: async (phone) => {
        const [hashed, plain] = await Promise.all([
          redis.sismember("suppressions", await suppressionHash(phone)),
          redis.sismember("suppressions", phone),
        ]);
        return hashed === 1 || plain === 1;
      },
      // The set holds members only; time and source of the proof live in Postgres `suppressions`.
      add: async (phone) => {
        await redis.sadd("suppressions", await suppressionHash(phone));
      },
      minimise: async (phone) => {
        // Only a number that is on the list gets a hash; hash first, so it is never off the list.
        if ((await redis.sismember("suppressions", phone)) !== 1) return;
        await redis.sadd("suppressions", await suppressionHash(phone));
        await redis.srem("suppressions", phone);
      },
    },
    callVars: {
      put: async (id, vars, ttl) => {
        await redis.set(`callvars:${id}`, JSON.stringify(vars), { ex: Math.max(1, Math.ceil(ttl)) });
      },
      get: async (id) => {
        const raw = await redis.get<unknown>(`callvars:${id}`);
        return raw === null ? undefined : callVarsEntry(raw);
      },
      delete: async (id) => {
        await redis.del(`callvars:${id}`);
      },
    },
    outbox,
    sessions: {
      current: async (name) => {
        const k = `epoch:${name}`;
        const first = { version: 1, secret: randomEpochSecret() };
        // NX: concurrent first readers agree on one epoch.
        if ((await redis.set(k, JSON.stringify(first), { nx: true })) === "OK") return first;
        const found = epochEntry(await redis.get<unknown>(k));
        if (found === undefined) throw new Error("session epoch unreadable");
        return found;
      },
      rotate: async (name) => {
        const k = `epoch:${name}`;
        const old = epochEntry(await redis.get<unknown>(k));
        // Two sign-outs racing both retire every earlier cookie; whichever write lands is the epoch.
        const next = { version: (old?.version ?? 0) + 1, secret: randomEpochSecret() };
        await redis.set(k, JSON.stringify(next));
        return next;
      },
    },
  };
}

/**
 * The configured edge ports: Upstash when its URL and token are set, else the EdgeState Durable
 * Object. Built per request (Workers forbid sharing clients across requests).
 */
export function edgePortsFor(config: AppConfig, env: { EDGE_STATE?: unknown }): EdgePorts {
  if (config.redis.url !== undefined && config.redis.token !== undefined) {
    return upstashEdgePorts(
      createUpstashClient({ url: config.redis.url, token: config.redis.token }),
      env.EDGE_STATE === undefined
        ? missingOutbox
        : durableObjectOutbox(env.EDGE_STATE as EdgeStateNamespace),
    );
  }
  if (env.EDGE_STATE === undefined) {
    throw new Error("EDGE_STATE binding missing and Upstash not configured");
  }
  return durableObjectEdgePorts(env.EDGE_STATE as EdgeStateNamespace);
}
