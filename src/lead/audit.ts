/**
 * The audit trail of one webhook or ingest request: every outside call and every decision becomes an
 * event in the request's own stream (`call_events.call_sid = req:<requestId>`, seq 0..n), logged at
 * once without personal data and written to Postgres off the response path when a database is set.
 */
import type { Logger } from "../lib/log";
import type { CallEvent } from "../store/call-event";
import { insertEventBatch } from "../store/event-store";
import type { SqlConnect } from "../store/sql-client";

/** Event type of one outside call (provider, operation, outcome, duration). */
export const INTEGRATION_CALL_EVENT = "integration.call";

/** Collects a request's events in order. */
export class RequestAudit {
  private readonly list: CallEvent[] = [];

  constructor(
    readonly stream: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record a fact. `payload` may hold personal data (it goes to Postgres, not to log text). */
  record(type: string, payload: Record<string, unknown>, logFields: Record<string, unknown> = {}): void {
    this.list.push({
      id: crypto.randomUUID(),
      callSid: this.stream,
      seq: this.list.length,
      type,
      atMs: this.now(),
      payload,
    });
    this.log.info("audit event", { type, ...logFields });
  }

  /** Run one outside call and record its outcome and duration, whatever happens. */
  async call<T>(provider: string, op: string, fn: () => Promise<T>): Promise<T> {
    const startedMs = this.now();
    try {
      const result = await fn();
      const durationMs = this.now() - startedMs;
      this.record(
        INTEGRATION_CALL_EVENT,
        { provider, op, ok: true, durationMs },
        { provider, op, durationMs },
      );
      return result;
    } catch (err) {
      const durationMs = this.now() - startedMs;
      const error = err instanceof Error ? err.message : String(err);
      const status = (err as { status?: unknown }).status;
      this.list.push({
        id: crypto.randomUUID(),
        callSid: this.stream,
        seq: this.list.length,
        type: INTEGRATION_CALL_EVENT,
        atMs: this.now(),
        payload: {
          provider,
          op,
          ok: false,
          durationMs,
          error,
          ...(typeof status === "number" ? { status } : {}),
        },
      });
      this.log.warn("outside call failed", { provider, op, durationMs, error });
      throw err;
    }
  }

  /** The events so far, in order. */
  events(): CallEvent[] {
    return [...this.list];
  }
}

/**
 * Write the events (exactly once per id) when a database is configured. Never throws: the audit
 * trail must not turn a handled request into a failure; a failed write is logged.
 */
export async function persistAudit(
  connect: SqlConnect | undefined,
  events: readonly CallEvent[],
  log: Logger,
): Promise<"written" | "skipped_no_database" | "failed"> {
  if (connect === undefined || events.length === 0) return "skipped_no_database";
  try {
    const { session, release } = await connect();
    try {
      await insertEventBatch(session, events);
    } finally {
      await release();
    }
    return "written";
  } catch (err) {
    log.error("audit events not written", { error: err instanceof Error ? err.message : String(err) });
    return "failed";
  }
}
