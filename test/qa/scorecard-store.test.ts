import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoreAndStore, scoreAndStoreMany } from "../../src/qa/scorecard-store";
import { insertEventBatch } from "../../src/store/event-store";
import { type PgFixture, startMigratedPostgres } from "../store/pg-fixture";
import { bookedCall, CallBuilder, LATE_MS } from "./call-builder";

let fx: PgFixture;

beforeAll(async () => {
  fx = await startMigratedPostgres();
});
afterAll(async () => {
  await fx?.pg.close();
});

async function withSession<T>(
  fn: Parameters<typeof scoreAndStore>[0] extends infer S ? (s: S) => Promise<T> : never,
) {
  const { session, release } = await fx.connect();
  try {
    return await fn(session);
  } finally {
    await release();
  }
}

describe("scoreAndStore", () => {
  it("scores a call from call_events and upserts its scorecard with evidence", async () => {
    await withSession((s) => insertEventBatch(s, bookedCall("CAstore1").events));
    const scored = await withSession((s) => scoreAndStore(s, "CAstore1"));
    expect(scored?.card.score).toBe(100);
    const rows = await fx.query<{
      score: number;
      outcome: string;
      criteria: { id: string; evidence: unknown[] }[];
      turn_totals_ms: number[];
      live_answered: boolean;
    }>(
      "SELECT score, outcome, criteria, turn_totals_ms, live_answered FROM call_scorecards WHERE call_sid = $1",
      ["CAstore1"],
    );
    expect(rows[0]).toMatchObject({
      score: 100,
      outcome: "booked",
      turn_totals_ms: [700, 900, 800],
      live_answered: true,
    });
    expect(rows[0]?.criteria.map((c) => c.id)).toEqual([
      "answered",
      "consent",
      "compliance",
      "clarity",
      "outcome",
      "latency",
    ]);
    expect(rows[0]?.criteria[0]?.evidence.length).toBeGreaterThan(0);
  });

  it("rescoring with more events replaces the scorecard; fewer events never do", async () => {
    const b = new CallBuilder("CAstore2", LATE_MS).start().greet().amd("human");
    await withSession((s) => insertEventBatch(s, b.events));
    await withSession((s) => scoreAndStore(s, "CAstore2"));
    const more = b.events.length;
    b.enter("qualify", "yes").end("close");
    await withSession((s) => insertEventBatch(s, b.events.slice(more)));
    await withSession((s) => scoreAndStore(s, "CAstore2"));
    const rows = await fx.query<{ event_count: number }>(
      "SELECT event_count FROM call_scorecards WHERE call_sid = $1",
      ["CAstore2"],
    );
    expect(rows[0]?.event_count).toBe(b.events.length);
  });

  it("skips calls with no events", async () => {
    expect(await withSession((s) => scoreAndStore(s, "CAnothing"))).toBeNull();
    expect(await withSession((s) => scoreAndStoreMany(s, []))).toEqual([]);
  });
});
