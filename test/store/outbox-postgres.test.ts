import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/store/call-event";
import { PostgresEventStore } from "../../src/store/event-store";
import { NodeSqlStorage } from "../../src/store/node-sql-storage";
import { Outbox } from "../../src/store/outbox";
import { flushOutbox } from "../../src/store/outbox-flush";
import { type PgFixture, recordingLogger, startMigratedPostgres } from "./pg-fixture";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("outbox to Postgres with the database going away mid-way", () => {
  let fx: PgFixture;
  beforeAll(async () => {
    fx = await startMigratedPostgres();
  }, 60_000);
  afterAll(async () => {
    await fx.pg.close();
  });

  it("N concurrent calls: every event present exactly once after the database comes back", async () => {
    const CALLS = 6;
    const EVENTS_PER_CALL = 60;
    const { log } = recordingLogger();
    let failedFlushes = 0;
    let producing = true;

    const calls = Array.from({ length: CALLS }, (_, c) => {
      const storage = new NodeSqlStorage();
      return { callSid: `CA_outage_${c}`, storage, outbox: new Outbox(storage, { log }) };
    });

    const producer = async (call: (typeof calls)[number]) => {
      for (let i = 0; i < EVENTS_PER_CALL; i++) {
        const type =
          i % 15 === 0
            ? EVENT_TYPES.consentRecorded
            : i === EVENTS_PER_CALL - 1
              ? EVENT_TYPES.optOutRecorded
              : EVENT_TYPES.turnLatency;
        const payload =
          type === EVENT_TYPES.turnLatency
            ? { turn: i, totalMs: 400 + i }
            : { phone: "+447700900321", kind: "recording", source: "call" };
        // The state change and its event commit together, as in the Durable Object.
        call.storage.transactionSync(() =>
          call.outbox.appendInTransaction([{ callSid: call.callSid, type, atMs: Date.now(), payload }]),
        );
        await sleep(5);
      }
    };

    const flusher = async (call: (typeof calls)[number]) => {
      // Like the DO alarm: a fresh store (and connection) per run, backoff from the outbox's counter.
      while (producing || call.outbox.size() > 0) {
        const r = await flushOutbox(call.outbox, new PostgresEventStore(fx.connect), log, {
          batchSize: 25,
          baseMs: 20,
          capMs: 200,
        });
        if (r.failed) failedFlushes++;
        await sleep(r.nextDelayMs ?? 15);
      }
    };

    const outage = (async () => {
      await sleep(120);
      await fx.pg.pauseProxy();
      await sleep(400);
      await fx.pg.resumeProxy();
    })();

    const flushers = calls.map(flusher);
    await Promise.all(calls.map(producer));
    await outage;
    producing = false;
    await Promise.all(flushers);

    expect(failedFlushes).toBeGreaterThan(0);
    const rows = await fx.query<{ call_sid: string; n: number; seqs: number; distinct_ids: number }>(
      `SELECT call_sid, count(*)::int AS n, count(DISTINCT seq)::int AS seqs, count(DISTINCT id)::int AS distinct_ids
       FROM call_events WHERE call_sid LIKE 'CA_outage_%' GROUP BY call_sid ORDER BY call_sid`,
    );
    expect(rows).toEqual(
      calls.map((c) => ({
        call_sid: c.callSid,
        n: EVENTS_PER_CALL,
        seqs: EVENTS_PER_CALL,
        distinct_ids: EVENTS_PER_CALL,
      })),
    );
    const consents = await fx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM consents WHERE call_sid LIKE 'CA_outage_%'",
    );
    expect(consents[0]?.n).toBe(CALLS * 4);
    const optOuts = await fx.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM suppressions WHERE phone = '+447700900321'",
    );
    expect(optOuts[0]?.n).toBe(CALLS);
    expect(calls.every((c) => c.outbox.size() === 0)).toBe(true);
  }, 60_000);
});
