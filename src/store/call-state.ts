/**
 * Live call state as the reference architecture shapes it in Redis (call-SID keyed JSON, TTL = max call
 * duration + 5 minutes), and the ports for the state mirror, webhook idempotency keys and rate limits.
 * Pure: adapters live in upstash-state.ts (Upstash Redis) and do-state.ts (Durable Object storage).
 */
import { z } from "zod";

/** The mirrored call state (snake_case, exactly the reference architecture's Redis JSON plus `updated_at`). */
export const CallStateSchema = z.object({
  call_sid: z.string().min(1),
  state: z.string().min(1),
  turns: z.number().int().nonnegative(),
  captured: z.record(z.string(), z.unknown()),
  slot_proposed: z.string().nullable(),
  consent_given: z.boolean(),
  opted_out: z.boolean(),
  transfer_attempted: z.boolean(),
  /** Epoch milliseconds of the transition that produced this snapshot. */
  updated_at: z.number().int().nonnegative(),
});
export type CallState = z.infer<typeof CallStateSchema>;

/** Slack after the longest possible call before the state may expire. */
export const CALL_STATE_TTL_SLACK_MS = 5 * 60_000;

/**
 * TTL for a call's state key, in seconds (Redis `EX` wants seconds): max call duration + 5 minutes, rounded
 * up, so the state can never expire while a call is still allowed to run.
 */
export function callStateTtlSeconds(config: { maxCallDurationMs: number }): number {
  const ms = Math.max(0, config.maxCallDurationMs) + CALL_STATE_TTL_SLACK_MS;
  return Math.ceil(ms / 1000);
}

/** The Redis key for a call's state. */
export function callStateKey(callSid: string): string {
  return `call:${callSid}`;
}

/** Port: the off-hot-path mirror of live call state. `put` refreshes the TTL on every transition. */
export interface CallStateMirror {
  put(state: CallState): Promise<void>;
  get(callSid: string): Promise<CallState | undefined>;
  /** Forget a call's live state (erasure). */
  delete(callSid: string): Promise<void>;
}

/** Port: at-most-once claims for webhook deliveries. True for the first claim of `key` within the TTL. */
export interface IdempotencyStore {
  claim(key: string, ttlSeconds: number): Promise<boolean>;
}

/** Outcome of a rate-limit check. `resetMs` is the epoch millisecond at which the current window ends. */
export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
}

/** Port: fixed-window rate limiting for public endpoints. */
export interface RateLimiter {
  limit(key: string, max: number, windowSeconds: number): Promise<RateLimitResult>;
}

/** The fixed window containing `nowMs`: its index (part of the key) and when it ends. Pure. */
export function fixedWindow(nowMs: number, windowSeconds: number): { index: number; resetMs: number } {
  const windowMs = Math.max(1, Math.round(windowSeconds * 1000));
  const index = Math.floor(nowMs / windowMs);
  return { index, resetMs: (index + 1) * windowMs };
}

/** Turn a counter value into a decision. Pure. */
export function rateLimitDecision(count: number, max: number, resetMs: number): RateLimitResult {
  return { allowed: count <= max, remaining: Math.max(0, max - count), resetMs };
}
