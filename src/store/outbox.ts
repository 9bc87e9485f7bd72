/**
 * The Durable Object event outbox over DO SQLite (`ctx.storage.sql`): events are appended in the same
 * synchronous transaction as the state change, then flushed to the event store off the hot path (DO alarm)
 * with capped, jittered exponential backoff. Bounded; consent and opt-out events are never dropped.
 */
import type { Logger } from "../lib/log";
import type { CallEvent } from "./call-event";
import { isCriticalEvent } from "./call-event";

/** A value DO SQLite returns. */
export type SqlValue = ArrayBuffer | string | number | null;

/** The part of `ctx.storage.sql` the outbox uses; `DurableObjectStorage["sql"]` satisfies it. */
export interface SqlStorageLike {
  exec<T extends Record<string, SqlValue>>(query: string, ...bindings: unknown[]): { toArray(): T[] };
}

/** An event to append; `id` defaults to a random UUID and `seq` to the call's next sequence number. */
export type CallEventInput = Omit<CallEvent, "id" | "seq"> & { id?: string; seq?: number };

/** Outbox limits. */
export interface OutboxOptions {
  /** Hard bound on stored events for non-critical types (default 50,000). */
  maxEvents?: number;
  /** Fraction of `maxEvents` at which a warning is logged (default 0.8). */
  warnRatio?: number;
  log: Logger;
}

/** What `appendInTransaction` did. */
export interface AppendResult {
  appended: CallEvent[];
  /** Non-critical events refused because the outbox was at its bound. */
  dropped: number;
}

/** Counters for health output and tests. */
export interface OutboxStats {
  size: number;
  maxEvents: number;
  nearBound: boolean;
  droppedTotal: number;
  quarantined: number;
  failedAttempts: number;
}

export const DEFAULT_OUTBOX_MAX_EVENTS = 50_000;

type EventRow = {
  id: string;
  call_sid: string;
  seq: number;
  type: string;
  at_ms: number;
  payload: string;
} & Record<string, SqlValue>;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS outbox_events (
    pos INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, call_sid TEXT NOT NULL, seq INTEGER NOT NULL,
    type TEXT NOT NULL, at_ms INTEGER NOT NULL, payload TEXT NOT NULL)`,
  "CREATE TABLE IF NOT EXISTS outbox_seq (call_sid TEXT PRIMARY KEY, next_seq INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
  `CREATE TABLE IF NOT EXISTS outbox_quarantine (
    id TEXT PRIMARY KEY, call_sid TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at_ms INTEGER NOT NULL,
    payload TEXT NOT NULL, reason TEXT NOT NULL)`,
];

function rowToEvent(r: EventRow): CallEvent {
  return {
    id: r.id,
    callSid: r.call_sid,
    seq: Number(r.seq),
    type: r.type,
    atMs: Number(r.at_ms),
    payload: JSON.parse(r.payload) as Record<string, unknown>,
  };
}

/** The outbox. Construct once per Durable Object instance (it creates its tables if missing). */
export class Outbox {
  readonly maxEvents: number;
  private readonly warnAt: number;
  private readonly log: Logger;
  private count: number;
  private warned = false;

  constructor(
    private readonly sql: SqlStorageLike,
    options: OutboxOptions,
  ) {
    this.maxEvents = options.maxEvents ?? DEFAULT_OUTBOX_MAX_EVENTS;
    this.warnAt = Math.floor(this.maxEvents * (options.warnRatio ?? 0.8));
    this.log = options.log;
    for (const ddl of SCHEMA) this.sql.exec(ddl);
    this.count = this.countRows();
  }

  private countRows(): number {
    return Number(
      this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox_events").toArray()[0]?.n ?? 0,
    );
  }

  private meta(key: string): number {
    return Number(
      this.sql.exec<{ value: number }>("SELECT value FROM outbox_meta WHERE key = ?", key).toArray()[0]
        ?.value ?? 0,
    );
  }

  private addMeta(key: string, delta: number): void {
    this.sql.exec(
      "INSERT INTO outbox_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
      key,
      delta,
    );
  }

  private setMeta(key: string, value: number): void {
    this.sql.exec(
      "INSERT INTO outbox_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  private nextSeq(callSid: string, given: number | undefined): number {
    const row = this.sql
      .exec<{ next_seq: number }>("SELECT next_seq FROM outbox_seq WHERE call_sid = ?", callSid)
      .toArray()[0];
    const next = Number(row?.next_seq ?? 0);
    const seq = given ?? next;
    if (seq + 1 > next) {
      this.sql.exec(
        "INSERT INTO outbox_seq (call_sid, next_seq) VALUES (?, ?) ON CONFLICT(call_sid) DO UPDATE SET next_seq = excluded.next_seq",
        callSid,
        seq + 1,
      );
    }
    return seq;
  }

  /**
   * Append events. Synchronous: call it inside `ctx.storage.transactionSync(() => ...)` together with the
   * state change it records, so both commit or neither does. At the bound, non-critical events are refused
   * (and counted); consent and opt-out events are always stored.
   */
  appendInTransaction(events: readonly CallEventInput[]): AppendResult {
    const appended: CallEvent[] = [];
    let dropped = 0;
    for (const input of events) {
      if (this.count >= this.maxEvents && !isCriticalEvent(input.type)) {
        dropped++;
        continue;
      }
      const event: CallEvent = {
        id: input.id ?? crypto.randomUUID(),
        callSid: input.callSid,
        seq: this.nextSeq(input.callSid, input.seq),
        type: input.type,
        atMs: input.atMs,
        payload: input.payload,
      };
      const inserted = this.sql
        .exec(
          `INSERT INTO outbox_events (id, call_sid, seq, type, at_ms, payload) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO NOTHING RETURNING pos`,
          event.id,
          event.callSid,
          event.seq,
          event.type,
          event.atMs,
          JSON.stringify(event.payload),
        )
        .toArray();
      if (inserted.length > 0) {
        this.count++;
        appended.push(event);
      }
    }
    if (dropped > 0) {
      this.addMeta("dropped", dropped);
      this.log.error("outbox full: non-critical events dropped", {
        dropped,
        size: this.count,
        maxEvents: this.maxEvents,
      });
    }
    if (this.count >= this.warnAt && !this.warned) {
      this.warned = true;
      this.log.warn("outbox nearing its bound: the event store has not accepted events for a while", {
        size: this.count,
        maxEvents: this.maxEvents,
      });
    }
    return { appended, dropped };
  }

  /** Append outside a caller's transaction, wrapping it in `transactionSync` (e.g. `ctx.storage.transactionSync`). */
  append(events: readonly CallEventInput[], transactionSync: <T>(fn: () => T) => T): AppendResult {
    try {
      return transactionSync(() => this.appendInTransaction(events));
    } catch (err) {
      this.count = this.countRows();
      throw err;
    }
  }

  /** The oldest `max` events, in append order. */
  takeBatch(max: number): CallEvent[] {
    this.count = this.countRows(); // resync: a caller's transaction may have rolled back an append
    return this.sql
      .exec<EventRow>(
        "SELECT id, call_sid, seq, type, at_ms, payload FROM outbox_events ORDER BY pos LIMIT ?",
        max,
      )
      .toArray()
      .map(rowToEvent);
  }

  /** Remove delivered events. Unknown ids are ignored. */
  markDelivered(ids: readonly string[]): void {
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100);
      const removed = this.sql
        .exec(
          `DELETE FROM outbox_events WHERE id IN (${chunk.map(() => "?").join(",")}) RETURNING id`,
          ...chunk,
        )
        .toArray().length;
      this.count -= removed;
    }
    if (this.count < this.warnAt) this.warned = false;
  }

  /** Move one event the store rejects as invalid out of the way, so it cannot block the rest. Kept, never deleted. */
  quarantine(event: CallEvent, reason: string): void {
    this.sql.exec(
      `INSERT INTO outbox_quarantine (id, call_sid, seq, type, at_ms, payload, reason) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO NOTHING`,
      event.id,
      event.callSid,
      event.seq,
      event.type,
      event.atMs,
      JSON.stringify(event.payload),
      reason,
    );
    this.markDelivered([event.id]);
    this.log.error("event rejected by the event store; quarantined in the outbox", {
      eventId: event.id,
      type: event.type,
      critical: isCriticalEvent(event.type),
      reason,
    });
  }

  /** Events waiting for delivery. */
  size(): number {
    return this.count;
  }

  /** Consecutive failed flushes (persisted, so backoff continues after eviction). */
  failedAttempts(): number {
    return this.meta("failed_attempts");
  }

  /** Record a flush outcome for the backoff counter. */
  recordFlush(ok: boolean): number {
    const attempts = ok ? 0 : this.failedAttempts() + 1;
    this.setMeta("failed_attempts", attempts);
    return attempts;
  }

  stats(): OutboxStats {
    return {
      size: this.count,
      maxEvents: this.maxEvents,
      nearBound: this.count >= this.warnAt,
      droppedTotal: this.meta("dropped"),
      quarantined: Number(
        this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox_quarantine").toArray()[0]?.n ?? 0,
      ),
      failedAttempts: this.failedAttempts(),
    };
  }
}

/** Backoff parameters for `nextFlushDelayMs`. */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
}

/**
 * Delay before flush attempt number `attempt` (1 = first retry): exponential from `baseMs`, capped at
 * `capMs`, with "equal jitter" (half fixed, half random) so retries from many calls spread out but never
 * come back immediately. `random` in [0, 1). Pure.
 */
export function nextFlushDelayMs(attempt: number, random: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1_000;
  const cap = options.capMs ?? 60_000;
  if (attempt <= 0) return 0;
  const exp = Math.min(cap, base * 2 ** Math.min(attempt - 1, 30));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}
