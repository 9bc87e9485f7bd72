/**
 * Embedded adapters for the call-state mirror, idempotency keys and rate limits over Durable Object storage
 * (`ctx.storage` satisfies `KeyValueStorage`): the default when no Upstash credentials are configured.
 * DO storage has no TTL, so entries carry an expiry and are treated as absent (and deleted) once past it.
 */
import type {
  CallState,
  CallStateMirror,
  IdempotencyStore,
  RateLimiter,
  RateLimitResult,
} from "./call-state";
import { CallStateSchema, callStateKey, fixedWindow, rateLimitDecision } from "./call-state";

/** The part of `DurableObjectStorage` these adapters use. */
export interface KeyValueStorage {
  get<T = unknown>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<boolean>;
}

interface Expiring<T> {
  value: T;
  expiresAtMs: number;
}

async function readLive<T>(storage: KeyValueStorage, key: string, nowMs: number): Promise<T | undefined> {
  const entry = await storage.get<Expiring<T>>(key);
  if (entry === undefined) return undefined;
  if (entry.expiresAtMs <= nowMs) {
    await storage.delete(key);
    return undefined;
  }
  return entry.value;
}

/** Call-state mirror in DO storage, with the same TTL semantics as Redis. */
export class DurableObjectCallStateMirror implements CallStateMirror {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async put(state: CallState): Promise<void> {
    const value = CallStateSchema.parse(state);
    await this.storage.put<Expiring<CallState>>(callStateKey(state.call_sid), {
      value,
      expiresAtMs: this.now() + this.ttlSeconds * 1000,
    });
  }

  async get(callSid: string): Promise<CallState | undefined> {
    const raw = await readLive<unknown>(this.storage, callStateKey(callSid), this.now());
    const parsed = CallStateSchema.safeParse(raw);
    return parsed.success ? parsed.data : undefined;
  }

  async delete(callSid: string): Promise<void> {
    await this.storage.delete(callStateKey(callSid));
  }
}

/**
 * Idempotency keys in DO storage. Atomic when used from one Durable Object: its input gates keep the
 * read and the write together, so two concurrent claims cannot both win.
 */
export class DurableObjectIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const k = `idem:${key}`;
    const nowMs = this.now();
    if ((await readLive<number>(this.storage, k, nowMs)) !== undefined) return false;
    await this.storage.put<Expiring<number>>(k, { value: 1, expiresAtMs: nowMs + ttlSeconds * 1000 });
    return true;
  }
}

/** Fixed-window limiter in DO storage (one DO per limited key space keeps it consistent). */
export class DurableObjectRateLimiter implements RateLimiter {
  constructor(
    private readonly storage: KeyValueStorage,
    private readonly now: () => number = Date.now,
  ) {}

  async limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult> {
    const nowMs = this.now();
    const { index, resetMs } = fixedWindow(nowMs, windowSeconds);
    const k = `rl:${key}:${index}`;
    const count = ((await readLive<number>(this.storage, k, nowMs)) ?? 0) + 1;
    // Windows are keyed by index; drop the previous one so storage does not grow per window.
    if (count === 1) await this.storage.delete(`rl:${key}:${index - 1}`);
    await this.storage.put<Expiring<number>>(k, { value: count, expiresAtMs: resetMs });
    return rateLimitDecision(count, max, resetMs);
  }

  /** Forget the current window of `key` (a counter of failures cleared by a success). */
  async reset(key: string, windowSeconds: number): Promise<void> {
    const { index } = fixedWindow(this.now(), windowSeconds);
    await this.storage.delete(`rl:${key}:${index}`);
  }
}
