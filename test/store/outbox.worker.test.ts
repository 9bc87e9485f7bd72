// The outbox and the embedded state adapters over real Durable Object storage (SQLite-backed, in workerd).
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/log";
import type { CallEvent } from "../../src/store/call-event";
import { EVENT_TYPES } from "../../src/store/call-event";
import { DurableObjectCallStateMirror, DurableObjectIdempotencyStore } from "../../src/store/do-state";
import type { EventStore } from "../../src/store/event-store";
import { Outbox } from "../../src/store/outbox";
import { flushOutbox } from "../../src/store/outbox-flush";

const log = createLogger({}, "error");
const stubFor = () => env.CALL_SESSION.get(env.CALL_SESSION.idFromName(`outbox-${crypto.randomUUID()}`));
const turn = (i: number) => ({
  callSid: "CA_do_1",
  type: EVENT_TYPES.turnLatency,
  atMs: 1_000 + i,
  payload: { turn: i },
});

class MemoryStore implements EventStore {
  readonly rows = new Map<string, CallEvent>();
  async insertEvents(events: CallEvent[]): Promise<void> {
    for (const e of events) this.rows.set(e.id, e);
  }
}

describe("Outbox over Durable Object SQLite", () => {
  it("commits with the state change in transactionSync and rolls back with it", async () => {
    const stub = stubFor();
    await runInDurableObject(stub, (_instance, state) => {
      const outbox = new Outbox(state.storage.sql, { log });
      state.storage.sql.exec("CREATE TABLE IF NOT EXISTS test_state (k TEXT PRIMARY KEY, v TEXT)");
      expect(() =>
        state.storage.transactionSync(() => {
          state.storage.sql.exec("INSERT INTO test_state VALUES ('s', 'qualify')");
          outbox.appendInTransaction([turn(0)]);
          throw new Error("abort");
        }),
      ).toThrow("abort");
      expect(outbox.takeBatch(10)).toEqual([]);
      state.storage.transactionSync(() => {
        state.storage.sql.exec("INSERT INTO test_state VALUES ('s', 'qualify')");
        outbox.appendInTransaction([turn(0), turn(1), { ...turn(2), type: EVENT_TYPES.optOutRecorded }]);
      });
      expect(outbox.takeBatch(10).map((e) => e.seq)).toEqual([0, 1, 2]);
    });
  });

  it("delivers a non-empty outbox after the object is evicted", async () => {
    const stub = stubFor();
    await runInDurableObject(stub, (_instance, state) => {
      const outbox = new Outbox(state.storage.sql, { log });
      outbox.append([turn(0), turn(1), turn(2)], (fn) => state.storage.transactionSync(fn));
    });
    await evictDurableObject(stub);
    const store = new MemoryStore();
    const result = await runInDurableObject(stub, async (_instance, state) => {
      const outbox = new Outbox(state.storage.sql, { log });
      expect(outbox.size()).toBe(3);
      return flushOutbox(outbox, store, log);
    });
    expect(result).toMatchObject({ delivered: 3, remaining: 0, failed: false });
    expect([...store.rows.values()].map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it("serves the call-state mirror and idempotency keys from ctx.storage", async () => {
    await runInDurableObject(stubFor(), async (_instance, state) => {
      const mirror = new DurableObjectCallStateMirror(state.storage, 900);
      const s = {
        call_sid: "CA_do_2",
        state: "greeting",
        turns: 0,
        captured: {},
        slot_proposed: null,
        consent_given: false,
        opted_out: false,
        transfer_attempted: false,
        updated_at: 5,
      };
      await mirror.put(s);
      expect(await mirror.get("CA_do_2")).toEqual(s);
      const idem = new DurableObjectIdempotencyStore(state.storage);
      expect([await idem.claim("k", 60), await idem.claim("k", 60)]).toEqual([true, false]);
    });
  });
});
