import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallEvent } from "../../src/store/call-event";
import { EVENT_TYPES } from "../../src/store/call-event";
import { insertEventBatch, PostgresEventStore } from "../../src/store/event-store";
import type { SqlConnect } from "../../src/store/sql-client";
import { type PgFixture, recordingLogger, startMigratedPostgres } from "./pg-fixture";

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
let counter = 0;
function ev(callSid: string, seq: number, type: string, payload: Record<string, unknown> = {}): CallEvent {
  counter++;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, "0")}`,
    callSid,
    seq,
    type,
    atMs: T0 + seq * 1000,
    payload,
  };
}

describe("PostgresEventStore (Neon driver against embedded Postgres)", () => {
  let fx: PgFixture;
  beforeAll(async () => {
    fx = await startMigratedPostgres();
  }, 60_000);
  afterAll(async () => {
    await fx.pg.close();
  });

  it("inserts a batch and projects calls, turns, consents, opt-outs, bookings and leads", async () => {
    const sid = "CA_project_1";
    const events = [
      ev(sid, 0, EVENT_TYPES.callStarted, {
        direction: "outbound",
        to: "+447700900123",
        campaignId: "camp-1",
      }),
      ev(sid, 1, EVENT_TYPES.stateTransition, { from: "greeting", to: "qualify" }),
      ev(sid, 2, EVENT_TYPES.turnLatency, {
        turn: 1,
        path: "fast",
        endpointingMs: 420,
        overheadMs: 3,
        totalMs: 600,
      }),
      ev(sid, 3, EVENT_TYPES.consentRecorded, {
        phone: "+447700900123",
        kind: "recording",
        text: "yes that's fine",
      }),
      ev(sid, 4, EVENT_TYPES.bookingCreated, {
        uid: "bk-1",
        start: "2026-03-03T10:30:00Z",
        end: "2026-03-03T11:00:00Z",
        attendee: { name: "Jo", email: "jo@example.co.uk" },
      }),
      ev(sid, 5, EVENT_TYPES.leadCaptured, { name: "Jo", email: "jo@example.co.uk", intent: "demo" }),
      ev(sid, 6, EVENT_TYPES.stateTransition, { from: "qualify", to: "opt_out" }),
      ev(sid, 7, EVENT_TYPES.optOutRecorded, { phone: "+447700900123", source: "call" }),
      ev(sid, 8, EVENT_TYPES.callEnded, { outcome: "opted_out", durationMs: 8000 }),
      ev(sid, 9, "capture", { field: "intent" }),
    ];
    await new PostgresEventStore(fx.connect).insertEvents(events);

    const call = await fx.query(
      "SELECT direction, campaign_id, last_state, outcome, duration_ms FROM calls WHERE call_sid = $1",
      [sid],
    );
    expect(call).toEqual([
      {
        direction: "outbound",
        campaign_id: "camp-1",
        last_state: "opt_out",
        outcome: "opted_out",
        duration_ms: 8000,
      },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM call_events WHERE call_sid = $1", [sid])).toEqual([
      { n: 10 },
    ]);
    expect(await fx.query("SELECT turn_index, endpointing_ms FROM turns WHERE call_sid = $1", [sid])).toEqual(
      [{ turn_index: 1, endpointing_ms: 420 }],
    );
    expect(await fx.query("SELECT status, attendee_email FROM bookings WHERE uid = 'bk-1'")).toEqual([
      { status: "accepted", attendee_email: "jo@example.co.uk" },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM leads WHERE call_sid = $1", [sid])).toEqual([
      { n: 1 },
    ]);
    // The README audit query: every consent and opt-out for a number.
    const audit = await fx.query<{ what: string }>(
      `SELECT 'consent:' || kind AS what, at FROM consents WHERE phone = $1
       UNION ALL SELECT 'opt_out:' || source, at FROM suppressions WHERE phone = $1 ORDER BY at`,
      ["+447700900123"],
    );
    expect(audit.map((r) => r.what)).toEqual(["consent:recording", "opt_out:call"]);
  });

  it("writes nothing twice when a batch is retried, whole or overlapping", async () => {
    const sid = "CA_retry_1";
    const events = Array.from({ length: 40 }, (_, i) =>
      i % 10 === 0
        ? ev(sid, i, EVENT_TYPES.consentRecorded, { phone: "+447700900555", kind: "marketing" })
        : ev(sid, i, EVENT_TYPES.turnLatency, { turn: i, totalMs: 500 + i }),
    );
    const store = new PostgresEventStore(fx.connect);
    await store.insertEvents(events.slice(0, 25)); // first attempt committed, but the caller never heard back
    await store.insertEvents(events); // the retry carries the whole batch again
    await store.insertEvents(events.slice(10, 30));
    expect(store.totals.inserted).toBe(40);
    expect(await fx.query("SELECT count(*)::int AS n FROM call_events WHERE call_sid = $1", [sid])).toEqual([
      { n: 40 },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM turns WHERE call_sid = $1", [sid])).toEqual([
      { n: 36 },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM consents WHERE call_sid = $1", [sid])).toEqual([
      { n: 4 },
    ]);
  });

  it("rolls back a batch that fails part-way, and the retry lands it exactly once", async () => {
    const sid = "CA_partial_1";
    const events = Array.from({ length: 12 }, (_, i) => ev(sid, i, EVENT_TYPES.turnLatency, { turn: i }));
    let calls = 0;
    // The connection dies after the events insert but before the projections and COMMIT.
    const flaky: SqlConnect = async () => {
      const inner = await fx.connect();
      return {
        release: inner.release,
        session: {
          query: async (text, params) => {
            if (text.includes("INSERT INTO turns") && calls++ === 0) throw new Error("socket closed");
            return inner.session.query(text, params);
          },
        },
      };
    };
    const store = new PostgresEventStore(flaky);
    await expect(store.insertEvents(events)).rejects.toThrow("socket closed");
    expect(await fx.query("SELECT count(*)::int AS n FROM call_events WHERE call_sid = $1", [sid])).toEqual([
      { n: 0 },
    ]);
    await store.insertEvents(events);
    await store.insertEvents(events);
    expect(await fx.query("SELECT count(*)::int AS n FROM call_events WHERE call_sid = $1", [sid])).toEqual([
      { n: 12 },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM turns WHERE call_sid = $1", [sid])).toEqual([
      { n: 12 },
    ]);
  });

  it("stores an event whose payload fails its schema, without projecting it, and says so", async () => {
    const { log, lines } = recordingLogger();
    const bad = ev("CA_bad_1", 0, EVENT_TYPES.optOutRecorded, { phone: "07700 900123" });
    await new PostgresEventStore(fx.connect, log).insertEvents([bad]);
    expect(await fx.query("SELECT type FROM call_events WHERE id = $1", [bad.id])).toEqual([
      { type: "opt_out.recorded" },
    ]);
    expect(await fx.query("SELECT count(*)::int AS n FROM suppressions WHERE call_sid = 'CA_bad_1'")).toEqual(
      [{ n: 0 }],
    );
    expect(lines.some((l) => l.level === "warn" && l.fields.invalid === 1)).toBe(true);
  });

  it("keeps the latest state and booking status whatever order batches arrive in", async () => {
    const sid = "CA_order_1";
    const late = [
      ev(sid, 5, EVENT_TYPES.stateTransition, { to: "close" }),
      ev(sid, 6, EVENT_TYPES.bookingUpdated, {
        uid: "bk-order",
        start: "2026-03-04T09:00:00Z",
        status: "cancelled",
      }),
    ];
    const early = [
      ev(sid, 2, EVENT_TYPES.stateTransition, { to: "book" }),
      ev(sid, 3, EVENT_TYPES.bookingCreated, { uid: "bk-order", start: "2026-03-04T09:00:00Z" }),
    ];
    const { session, release } = await fx.connect();
    try {
      await insertEventBatch(session, late);
      await insertEventBatch(session, early);
    } finally {
      await release();
    }
    expect(await fx.query("SELECT last_state FROM calls WHERE call_sid = $1", [sid])).toEqual([
      { last_state: "close" },
    ]);
    expect(await fx.query("SELECT status FROM bookings WHERE uid = 'bk-order'")).toEqual([
      { status: "cancelled" },
    ]);
  });
});
