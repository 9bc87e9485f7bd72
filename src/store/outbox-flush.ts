/**
 * Flushing the outbox into the event store: what the Durable Object alarm runs. Delivers oldest-first in
 * batches; on a connection failure it stops and asks to be retried after a backoff; an event the database
 * rejects as invalid is isolated by bisection and quarantined so it cannot block everything behind it.
 */
import type { Logger } from "../lib/log";
import type { CallEvent } from "./call-event";
import type { EventStore } from "./event-store";
import type { BackoffOptions, Outbox } from "./outbox";
import { nextFlushDelayMs } from "./outbox";

/** Options for `flushOutbox`. */
export interface FlushOptions extends BackoffOptions {
  /** Events per insert (default 500). */
  batchSize?: number;
  /** Batches per call before yielding back to the alarm (default 20). */
  maxBatches?: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
}

/** Outcome of one flush; schedule the next alarm `nextDelayMs` from now when it is defined. */
export interface FlushResult {
  delivered: number;
  remaining: number;
  failed: boolean;
  nextDelayMs: number | undefined;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): retrying the same rows cannot help. */
export function isRejectedData(err: unknown): boolean {
  if (typeof err !== "object" || err === null || !("code" in err)) return false;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code);
}

async function deliver(outbox: Outbox, store: EventStore, batch: CallEvent[]): Promise<number> {
  try {
    await store.insertEvents(batch);
    outbox.markDelivered(batch.map((e) => e.id));
    return batch.length;
  } catch (err) {
    if (!isRejectedData(err)) throw err;
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      outbox.quarantine(only, err instanceof Error ? err.message : String(err));
      return 0;
    }
    const mid = Math.ceil(batch.length / 2);
    return (
      (await deliver(outbox, store, batch.slice(0, mid))) + (await deliver(outbox, store, batch.slice(mid)))
    );
  }
}

/** Deliver what the outbox holds. Never throws: failures are logged and turned into a retry delay. */
export async function flushOutbox(
  outbox: Outbox,
  store: EventStore,
  log: Logger,
  options: FlushOptions = {},
): Promise<FlushResult> {
  const batchSize = options.batchSize ?? 500;
  const maxBatches = options.maxBatches ?? 20;
  const random = options.random ?? Math.random;
  let delivered = 0;
  try {
    for (let i = 0; i < maxBatches; i++) {
      const batch = outbox.takeBatch(batchSize);
      if (batch.length === 0) break;
      delivered += await deliver(outbox, store, batch);
    }
  } catch (err) {
    const attempt = outbox.recordFlush(false);
    const nextDelayMs = nextFlushDelayMs(attempt, random(), options);
    log.warn("outbox flush failed; will retry", {
      attempt,
      nextDelayMs,
      delivered,
      remaining: outbox.size(),
      error: err instanceof Error ? err.message : String(err),
    });
    return { delivered, remaining: outbox.size(), failed: true, nextDelayMs };
  }
  outbox.recordFlush(true);
  const remaining = outbox.size();
  return { delivered, remaining, failed: false, nextDelayMs: remaining > 0 ? 0 : undefined };
}
