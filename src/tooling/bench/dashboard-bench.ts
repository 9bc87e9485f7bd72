/**
 * Dashboard bench: the calls-list page's server time over 10,000 seeded calls in embedded Postgres (PGlite
 * behind the Neon WebSocket path, as `npm run dev` runs it). Seeds the audit events through
 * `insertEventBatch` (with projections) and their scorecards, then times whole requests to the Hono
 * dashboard app: the first page, a campaign filter, a score filter and a deep keyset page.
 */

import { encodeCursor } from "../../dashboard/queries";
import { standaloneDashboardApp } from "../../dashboard/standalone";
import { scoreEvents, upsertScorecards } from "../../qa/scorecard-store";
import type { CallEvent } from "../../store/call-event";
import { insertEventBatch } from "../../store/event-store";
import { migrate } from "../../store/migrate";
import { loadMigrations } from "../../store/migration-files";
import { neonConnect } from "../../store/neon";
import { percentile } from "../../turn/latency";
import { startEmbeddedPostgres } from "../dev/postgres";

/** One figure, as every bench module returns it. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

/** Options: how many calls to seed and how many timed requests per scenario. */
export interface DashboardBenchOptions {
  calls?: number;
  iterations?: number;
}

const CAMPAIGNS = ["spring", "summer", "autumn", "winter"];
/** Tuesday 19 May 2026, 10:00 BST. */
const BASE_MS = Date.UTC(2026, 4, 19, 9, 0, 0);

/** The events of one synthetic call: greeted, AMD, one or two turns, an outcome. */
function syntheticCall(i: number): CallEvent[] {
  const callSid = `CAbench${String(i).padStart(8, "0")}`;
  let at = BASE_MS - i * 97_000;
  let seq = 0;
  const out: CallEvent[] = [];
  const add = (type: string, payload: Record<string, unknown>, stepMs = 400) => {
    at += stepMs;
    seq += 1;
    out.push({ id: `${callSid}-${seq}`, callSid, seq, type, atMs: at, payload });
  };
  const campaignId = CAMPAIGNS[i % CAMPAIGNS.length] ?? "spring";
  add(
    "call.started",
    { direction: "outbound", to: "+447700900123", campaignId, flowId: "outbound-booking" },
    0,
  );
  add("state.transition", { from: null, to: "greeting", trigger: "start" });
  add("flow.recording_notice", { state: "greeting" }, 0);
  add("amd.result", { answeredBy: i % 9 === 0 ? "machine_end_beep" : "human" });
  const totalMs = 600 + ((i * 37) % 1_400);
  add("flow.turn", { state: "greeting", branch: "yes", matched: true, source: "speech", text: "yes" }, 1_500);
  add("state.transition", { from: "greeting", to: "qualify", trigger: "yes" });
  add("turn.latency", {
    turn: 1,
    path: "fast_path_cached",
    totalMs,
    segments: { endpointing: totalMs - 100, send: 100 },
  });
  const optOut = i % 11 === 0;
  if (optOut) {
    add(
      "flow.turn",
      { state: "qualify", branch: "opt_out", matched: false, source: "speech", text: "stop" },
      1_500,
    );
    add("state.transition", { from: "qualify", to: "opt_out", trigger: "opt_out" });
    add("opt_out.recorded", { phone: "+447700900123", source: "call" }, 20);
  } else if (i % 3 === 0) {
    add("state.transition", { from: "qualify", to: "confirm", trigger: "positive" }, 1_500);
    add("action.result", { action: "cal.com:create_booking", ok: true }, 900);
    add("state.transition", { from: "confirm", to: "close", trigger: "success" });
  } else add("state.transition", { from: "qualify", to: "close", trigger: "negative" }, 1_500);
  add("call.ended", {
    outcome: optOut ? "opt_out" : "close",
    reason: "completed",
    durationMs: at - BASE_MS + i * 97_000,
  });
  return out;
}

/** Seed `calls` calls and their scorecards, then time the calls-list page. */
export async function runDashboardBench(options: DashboardBenchOptions = {}): Promise<BenchResult[]> {
  const calls = options.calls ?? 10_000;
  const iterations = options.iterations ?? 20;
  const pg = await startEmbeddedPostgres();
  try {
    const connect = neonConnect({ databaseUrl: pg.databaseUrl, wsProxyUrl: pg.wsProxyUrl });
    const { session, release } = await connect();
    const seedStart = performance.now();
    try {
      await migrate(session, await loadMigrations());
      for (let start = 0; start < calls; start += 500) {
        const batch = Array.from({ length: Math.min(500, calls - start) }, (_, k) =>
          syntheticCall(start + k),
        );
        await insertEventBatch(session, batch.flat());
        const scored = batch.map((events) => scoreEvents(events[0]?.callSid ?? "", events));
        await upsertScorecards(session, scored, Date.now());
      }
    } finally {
      await release();
    }
    const seedMs = performance.now() - seedStart;

    const password = "dashboard-bench-password";
    const env = {
      DASHBOARD_PASSWORD: password,
      DATABASE_URL: pg.databaseUrl,
      NEON_WS_PROXY: pg.wsProxyUrl,
      LOG_LEVEL: "error",
    };
    const app = standaloneDashboardApp();
    const signIn = await app.request(
      "http://bench.local/dashboard/login",
      { method: "POST", body: new URLSearchParams({ password }), redirect: "manual" },
      env,
    );
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    if (cookie === "") throw new Error(`dashboard bench: sign-in returned ${signIn.status}`);
    // Half-way down the table: keyset paging must cost the same there as on the first page.
    const deep = encodeCursor({ startedAtMs: BASE_MS - Math.floor(calls / 2) * 97_000, callSid: "CAbench" });
    const scenarios: [string, string][] = [
      ["first page", "/dashboard/calls"],
      ["campaign filter", "/dashboard/calls?campaign=autumn"],
      ["score filter", "/dashboard/calls?maxScore=70"],
      ["deep keyset page", `/dashboard/calls?after=${encodeURIComponent(deep)}`],
    ];
    const results: BenchResult[] = [
      { name: "dashboard seeded calls", value: calls, unit: "calls" },
      { name: "dashboard seed time", value: Math.round(seedMs), unit: "ms" },
    ];
    for (const [label, path] of scenarios) {
      const times: number[] = [];
      for (let i = 0; i < iterations + 2; i++) {
        const t0 = performance.now();
        const res = await app.request(`http://bench.local${path}`, { headers: { cookie } }, env);
        const body = await res.text();
        const ms = performance.now() - t0;
        if (res.status !== 200 || !body.includes("CAbench"))
          throw new Error(`dashboard bench: ${path} returned ${res.status}`);
        if (i >= 2) times.push(ms); // the first two warm the connection path and the JIT
      }
      results.push(
        { name: `calls page (${label}) p50`, value: Math.round(percentile(times, 50) ?? 0), unit: "ms" },
        { name: `calls page (${label}) p95`, value: Math.round(percentile(times, 95) ?? 0), unit: "ms" },
      );
    }
    return results;
  } finally {
    await pg.close();
  }
}
