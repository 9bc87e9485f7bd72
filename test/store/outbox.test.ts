import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { CallEvent } from "../../src/store/call-event";
import { EVENT_TYPES } from "../../src/store/call-event";
import type { EventStore } from "../../src/store/event-store";
import { NodeSqlStorage } from "../../src/store/node-sql-storage";
import { nextFlushDelayMs, Outbox, type SqlStorageLike } from "../../src/store/outbox";
import { flushOutbox } from "../../src/store/outbox-flush";
import { recordingLogger } from "./pg-fixture";

class MemoryStore implements EventStore {
  readonly rows = new Map<string, CallEvent>();
  failNext = 0;
  rejectIds = new Set<string>();
  async insertEvents(events: CallEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("connect ECONNREFUSED");
    }
    const bad = events.find((e) => this.rejectIds.has(e.id));
    if (bad)
      throw Object.assign(new Error("duplicate key value violates unique constraint"), { code: "23505" });
    for (const e of events) if (!this.rows.has(e.id)) this.rows.set(e.id, e);
  }
}

const turn = (callSid: string, i: number) => ({
  callSid,
  type: EVENT_TYPES.turnLatency,
  atMs: 1000 + i,
  payload: { turn: i },
});
const optOut = (callSid: string) => ({
  callSid,
  type: EVENT_TYPES.optOutRecorded,
  atMs: 5000,
  payload: { phone: "+447700900123", source: "call" },
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("Outbox over SQLite", () => {
  it("appends in the caller's transaction: a rolled-back state change leaves no event", () => {
    const storage = new NodeSqlStorage();
    const { log } = recordingLogger();
    const outbox = new Outbox(storage, { log });
    storage.exec("CREATE TABLE state (k TEXT PRIMARY KEY, v TEXT)");
    expect(() =>
      storage.transactionSync(() => {
        storage.exec("INSERT INTO state VALUES ('state', 'qualify')");
        outbox.appendInTransaction([turn("CA1", 1)]);
        throw new Error("state write failed");
      }),
    ).toThrow("state write failed");
    expect(outbox.takeBatch(10)).toEqual([]);
    expect(outbox.size()).toBe(0);
    storage.transactionSync(() => {
      storage.exec("INSERT INTO state VALUES ('state', 'qualify')");
      outbox.appendInTransaction([turn("CA1", 1), turn("CA1", 2)]);
    });
    expect(outbox.takeBatch(10).map((e) => e.seq)).toEqual([0, 1]);
  });

  it("survives eviction (reopening the storage): sequence numbers continue and pending events are delivered later", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outbox-"));
    dirs.push(dir);
    const file = join(dir, "do.sqlite");
    const { log } = recordingLogger();
    const first = new NodeSqlStorage(file);
    const a = new Outbox(first, { log });
    a.append([turn("CA1", 1), turn("CA1", 2)], (fn) => first.transactionSync(fn));
    a.markDelivered(a.takeBatch(1).map((e) => e.id));
    first.close();
    const second = new NodeSqlStorage(file);
    const b = new Outbox(second, { log });
    expect(b.size()).toBe(1);
    const [appended] = b.append([turn("CA1", 3)], (fn) => second.transactionSync(fn)).appended;
    expect(appended?.seq).toBe(2);
    expect(b.takeBatch(10).map((e) => e.seq)).toEqual([1, 2]);
    // The evicted object's undelivered events go out with the next alarm.
    const store = new MemoryStore();
    const r = await flushOutbox(b, store, log);
    expect(r).toMatchObject({ delivered: 2, remaining: 0, failed: false });
    expect([...store.rows.values()].map((e) => e.seq)).toEqual([1, 2]);
    second.close();
  });

  it("warns loudly at 80% of its bound, drops only non-critical events at the bound, keeps opt-outs", () => {
    const storage = new NodeSqlStorage();
    const { log, lines } = recordingLogger();
    const outbox = new Outbox(storage, { log, maxEvents: 10 });
    const tx = <T>(fn: () => T) => storage.transactionSync(fn);
    outbox.append(
      Array.from({ length: 7 }, (_, i) => turn("CA1", i)),
      tx,
    );
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(0);
    outbox.append([turn("CA1", 7)], tx);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    expect(outbox.stats().nearBound).toBe(true);
    const r = outbox.append(
      [turn("CA1", 8), turn("CA1", 9), turn("CA1", 10), optOut("CA1"), turn("CA1", 11)],
      tx,
    );
    expect(r.dropped).toBe(2);
    expect(outbox.size()).toBe(11);
    expect(outbox.takeBatch(20).some((e) => e.type === EVENT_TYPES.optOutRecorded)).toBe(true);
    expect(lines.some((l) => l.level === "error" && l.fields.dropped === 2)).toBe(true);
    expect(outbox.stats().droppedTotal).toBe(2);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1); // one warning per crossing, not per event
  });

  it("keeps the events through failed flushes, backs off, then delivers everything once", async () => {
    const storage = new NodeSqlStorage();
    const { log } = recordingLogger();
    const outbox = new Outbox(storage, { log });
    const store = new MemoryStore();
    outbox.append(
      Array.from({ length: 25 }, (_, i) => turn("CA1", i)),
      (fn) => storage.transactionSync(fn),
    );
    store.failNext = 2;
    const r1 = await flushOutbox(outbox, store, log, { batchSize: 10, random: () => 0.5 });
    const r2 = await flushOutbox(outbox, store, log, { batchSize: 10, random: () => 0.5 });
    expect([r1.failed, r2.failed]).toEqual([true, true]);
    expect(r2.nextDelayMs ?? 0).toBeGreaterThan(r1.nextDelayMs ?? 0);
    expect(outbox.failedAttempts()).toBe(2);
    const r3 = await flushOutbox(outbox, store, log, { batchSize: 10 });
    expect(r3).toEqual({ delivered: 25, remaining: 0, failed: false, nextDelayMs: undefined });
    expect(store.rows.size).toBe(25);
    expect(outbox.failedAttempts()).toBe(0);
  });

  it("quarantines an event the database rejects instead of blocking everything behind it", async () => {
    const storage = new NodeSqlStorage();
    const { log, lines } = recordingLogger();
    const outbox = new Outbox(storage, { log });
    const { appended } = outbox.append(
      Array.from({ length: 9 }, (_, i) => turn("CA1", i)),
      (fn) => storage.transactionSync(fn),
    );
    const store = new MemoryStore();
    const poison = appended[4];
    if (poison === undefined) throw new Error("expected 9 events");
    store.rejectIds.add(poison.id);
    const r = await flushOutbox(outbox, store, log);
    expect(r.delivered).toBe(8);
    expect(outbox.size()).toBe(0);
    expect(outbox.stats().quarantined).toBe(1);
    expect([...store.rows.keys()]).not.toContain(poison.id);
    expect(lines.some((l) => l.level === "error" && l.fields.eventId === poison.id)).toBe(true);
  });

  it("accepts DO SQLite's exec signature", () => {
    // Compile-time check: the real Durable Object storage type satisfies the outbox's port.
    const check = (sql: DurableObjectStorage["sql"]): SqlStorageLike => sql;
    expect(typeof check).toBe("function");
  });
});

describe("nextFlushDelayMs", () => {
  it("grows exponentially, stays within [half, full] of the capped step, and never exceeds the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const d = nextFlushDelayMs(attempt, r, { baseMs: 1000, capMs: 60_000 });
          const step = Math.min(60_000, 1000 * 2 ** (attempt - 1));
          return d >= step / 2 - 1 && d <= step && d <= 60_000;
        },
      ),
    );
    expect(nextFlushDelayMs(0, 0.3)).toBe(0);
    expect(nextFlushDelayMs(1, 0)).toBe(500);
    expect(nextFlushDelayMs(3, 0.999)).toBeLessThanOrEqual(4000);
  });
});
