/**
 * Store benchmark (Node): outbox flush throughput into embedded Postgres through the Neon driver and the
 * local WebSocket proxy, and the cost of the hot-path append (one SQLite transaction) with the database up
 * and down, to show bookkeeping does not slow turns when Postgres is unreachable.
 */

import { createLogger } from "../../lib/log";
import { EVENT_TYPES } from "../../store/call-event";
import { PostgresEventStore } from "../../store/event-store";
import { migrate } from "../../store/migrate";
import { loadMigrations } from "../../store/migration-files";
import { neonConnect } from "../../store/neon";
import { NodeSqlStorage } from "../../store/node-sql-storage";
import { Outbox } from "../../store/outbox";
import { flushOutbox } from "../../store/outbox-flush";
import { startEmbeddedPostgres } from "../dev/postgres";

/** One reported figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const EVENTS = 5_000;
const APPENDS = 2_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

function turnEvent(callSid: string, i: number) {
  return {
    callSid,
    type: EVENT_TYPES.turnLatency,
    atMs: Date.now(),
    payload: { turn: i, path: "fast", endpointingMs: 480, overheadMs: 2, totalMs: 700 },
  };
}

/** p50/p99 of appending one event in its own transaction, in microseconds. */
function measureAppends(storage: NodeSqlStorage, outbox: Outbox, label: string): BenchResult[] {
  const samples: number[] = [];
  for (let i = 0; i < APPENDS; i++) {
    const t0 = performance.now();
    storage.transactionSync(() => outbox.appendInTransaction([turnEvent(`CA_${label}`, i)]));
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return [
    { name: `store.outbox_append_p50_${label}`, value: Math.round(percentile(samples, 0.5)), unit: "us" },
    { name: `store.outbox_append_p99_${label}`, value: Math.round(percentile(samples, 0.99)), unit: "us" },
  ];
}

/** Run the store benchmarks against a fresh in-memory embedded Postgres. */
export async function runStoreBench(): Promise<BenchResult[]> {
  const log = createLogger({ bench: "store" }, "error");
  const pg = await startEmbeddedPostgres();
  try {
    const connect = neonConnect({ databaseUrl: pg.databaseUrl, wsProxyUrl: pg.wsProxyUrl });
    const { session, release } = await connect();
    try {
      await migrate(session, await loadMigrations());
    } finally {
      await release();
    }

    const storage = new NodeSqlStorage();
    const outbox = new Outbox(storage, { log, maxEvents: 100_000 });
    const results: BenchResult[] = [];
    results.push(...measureAppends(storage, outbox, "db_up"));
    // Database unreachable: a flush fails, and appends (the hot path's only bookkeeping) cost the same.
    await pg.pauseProxy();
    const down = await flushOutbox(outbox, new PostgresEventStore(connect), log);
    if (!down.failed) throw new Error("expected the flush to fail while the database is down");
    results.push(...measureAppends(storage, outbox, "db_down"));
    await pg.resumeProxy();
    outbox.markDelivered(outbox.takeBatch(100_000).map((e) => e.id));

    for (let i = 0; i < EVENTS; i++) {
      storage.transactionSync(() => outbox.appendInTransaction([turnEvent(`CA_bench_${i % 50}`, i)]));
    }
    const t0 = performance.now();
    let delivered = 0;
    while (outbox.size() > 0) {
      const r = await flushOutbox(outbox, new PostgresEventStore(connect), log, { batchSize: 500 });
      if (r.failed) throw new Error("flush failed during the throughput run");
      delivered += r.delivered;
    }
    const seconds = (performance.now() - t0) / 1000;
    results.push({
      name: "store.outbox_flush_throughput",
      value: Math.round(delivered / seconds),
      unit: "events/s",
    });
    storage.close();
    return results;
  } finally {
    await pg.close();
  }
}
