/**
 * Upstash Redis adapters for the call-state mirror, idempotency keys and rate limits. Build them per
 * request (or per Durable Object) from config: Workers forbid sharing clients across requests.
 */
import { Redis } from "@upstash/redis/cloudflare";
import type {
  CallState,
  CallStateMirror,
  IdempotencyStore,
  RateLimiter,
  RateLimitResult,
} from "./call-state";
import { CallStateSchema, callStateKey, fixedWindow, rateLimitDecision } from "./call-state";

/** Connection settings for Upstash (or the local emulator). */
export interface UpstashConfig {
  url: string;
  token: string;
}

/** Longest one Redis command may take before it fails (Upstash answers in a few ms when healthy). */
export const UPSTASH_TIMEOUT_MS = 1_000;
/** What a request refused because Redis is down tells the client to wait before retrying. */
export const STATE_RETRY_AFTER_SECONDS = 5;

/** Redis did not answer, answered an error, or timed out: the HTTP layer answers 503 with `Retry-After`. */
export class StateStoreUnavailableError extends Error {
  readonly retryAfterSeconds = STATE_RETRY_AFTER_SECONDS;
  constructor(cause: unknown) {
    super("The shared state store is unavailable", { cause });
    this.name = "StateStoreUnavailableError";
  }
}

/**
 * A client with base64 responses (the SDK default, binary-safe), no automatic retries (every caller
 * is off the hot path and retries at its own level: waitUntil, alarm), a timeout per command (a
 * fresh signal per request, so the SDK throws instead of returning the abort reason as a result),
 * and every failure surfaced as a `StateStoreUnavailableError`.
 */
export function createUpstashClient(config: UpstashConfig, timeoutMs = UPSTASH_TIMEOUT_MS): Redis {
  const redis = new Redis({
    url: config.url,
    token: config.token,
    responseEncoding: "base64",
    retry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
  });
  redis.use(async (req, next) => {
    try {
      return await next(req);
    } catch (err) {
      throw new StateStoreUnavailableError(err);
    }
  });
  return redis;
}

/** Call-state mirror: `SET call:<sid> <json> EX <ttl>` on every transition. */
export class UpstashCallStateMirror implements CallStateMirror {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  async put(state: CallState): Promise<void> {
    await this.redis.set(callStateKey(state.call_sid), JSON.stringify(CallStateSchema.parse(state)), {
      ex: this.ttlSeconds,
    });
  }

  async get(callSid: string): Promise<CallState | undefined> {
    // The SDK JSON-parses replies when it can, so the stored JSON comes back as an object.
    const raw = await this.redis.get<unknown>(callStateKey(callSid));
    if (raw === null || raw === undefined) return undefined;
    const parsed = CallStateSchema.safeParse(typeof raw === "string" ? JSON.parse(raw) : raw);
    return parsed.success ? parsed.data : undefined;
  }

  async delete(callSid: string): Promise<void> {
    await this.redis.del(callStateKey(callSid));
  }
}

/** Idempotency keys: `SET idem:<key> 1 NX EX <ttl>`; "OK" means this caller is first. */
export class UpstashIdempotencyStore implements IdempotencyStore {
  constructor(private readonly redis: Redis) {}

  async claim(key: string, ttlSeconds: number): Promise<boolean> {
    const r = await this.redis.set(`idem:${key}`, "1", { nx: true, ex: Math.max(1, Math.ceil(ttlSeconds)) });
    return r === "OK";
  }
}

/** Fixed-window limiter: `INCR` + `PEXPIRE` in one MULTI/EXEC per check. */
export class UpstashRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {}

  async limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult> {
    const { index, resetMs } = fixedWindow(this.now(), windowSeconds);
    const k = `rl:${key}:${index}`;
    const tx = this.redis.multi();
    tx.incr(k);
    tx.pexpire(k, Math.max(1, resetMs - this.now()) + 1000);
    const [count] = (await tx.exec()) as [number, number];
    return rateLimitDecision(count, max, resetMs);
  }

  /** Forget the current window of `key` (a counter of failures cleared by a success). */
  async reset(key: string, windowSeconds: number): Promise<void> {
    const { index } = fixedWindow(this.now(), windowSeconds);
    await this.redis.del(`rl:${key}:${index}`);
  }
}
