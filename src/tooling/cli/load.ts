/**
 * `npm run load -- --calls N [--url URL] [--ramp-ms MS] [--script FILE] [--json OUT]`: N concurrent
 * simulated calls at real-time pace against a running `npm run dev`, with the Worker runtime's CPU
 * and memory read from /proc. Loopback targets only.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { LOCAL_CREDENTIALS } from "../../config/config";
import { type LoadCallResult, type LoadTarget, runLoadCall } from "../load/load-call";
import {
  clockTicksPerSecond,
  findWorkerdPids,
  sampleCpuTicks,
  sampleMachineTicks,
  sampleMemoryKb,
} from "../load/proc-reader";
import { cpuPerCallMinute } from "../load/proc-stats";
import { overheadHops, providerMs, recordsByTurn } from "../load/provider-time";
import {
  buildLoadReport,
  formatLoadReport,
  formatSweep,
  type LoadReport,
  summarizeSweep,
} from "../load/report";
import { fetchTurnRecords, type TurnRecordSource } from "../load/turn-records";
import { type CallScript, parseCallScript } from "../simulator/script";

const USAGE = `usage: npm run load -- --calls N | --sweep N1,N2,... [--hold-s S] [--ramp-ms MS]
                         [--url http://127.0.0.1:8787] [--script src/tooling/simulator/examples/booking.json]
                         [--json OUT] [--endpointing-ms 500,500,600] [--limit-ms 20]

  --calls           concurrent calls, 1..500
  --sweep           run each level in turn, then report the highest level whose p99 overhead stayed
                    under --limit-ms (default 20) with no failed call and no late or dropped frame;
                    writes bench-results/load-sweep.json (or --json), which \`npm run bench\` reads
  --hold-s          keep N calls up for S seconds: each slot places a new call as soon as its last
                    one ends (default 0: one call per slot)
  --ramp-ms         spread the first call starts evenly over this long (default 2000; with --hold-s,
                    40000, about one booking call, so the callers' turns do not line up)
  --endpointing-ms  endpointing silence subtracted from each turn's latency for "our overhead",
                    per turn index, the last value repeating (default 500,500,600: the shipped
                    booking flow's greeting, qualify and book states)
Needs a running \`npm run dev\` (reads .data/dev-stack.json); loopback URLs only.`;

const STACK_FILE = ".data/dev-stack.json";
/** Where a sweep writes its figures; `npm run bench` reads them into its table. */
const SWEEP_FILE = "bench-results/load-sweep.json";
const SETTLE_MS = 5_000;
const MAX_CALLS = 500;

function loopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]" || host === "::1";
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      calls: { type: "string" },
      sweep: { type: "string" },
      url: { type: "string" },
      "ramp-ms": { type: "string" },
      "hold-s": { type: "string" },
      script: { type: "string" },
      json: { type: "string" },
      "endpointing-ms": { type: "string" },
      "limit-ms": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || (values.calls === undefined) === (values.sweep === undefined)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const levels = (values.sweep ?? values.calls ?? "").split(",").map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_CALLS))
    throw new Error(`--calls and --sweep take call counts 1..${MAX_CALLS}`);
  const holdMs = Number(values["hold-s"] ?? "0") * 1000;
  if (!Number.isFinite(holdMs) || holdMs < 0 || holdMs > 3_600_000)
    throw new Error("--hold-s must be 0..3600");
  const rampMs = Number(values["ramp-ms"] ?? (holdMs > 0 ? "40000" : "2000"));
  if (!Number.isFinite(rampMs) || rampMs < 0 || rampMs > 600_000)
    throw new Error("--ramp-ms must be 0..600000");
  const limitMs = Number(values["limit-ms"] ?? "20");
  if (!Number.isFinite(limitMs) || limitMs <= 0) throw new Error("--limit-ms must be > 0");
  const endpointingMs = (values["endpointing-ms"] ?? "500,500,600").split(",").map(Number);
  if (endpointingMs.some((v) => !Number.isFinite(v) || v < 0))
    throw new Error("--endpointing-ms: numbers ≥ 0");
  const stackPath = resolve(STACK_FILE);
  if (!existsSync(stackPath)) {
    throw new Error(
      `${STACK_FILE} not found: start the local stack first with \`npm run dev\` and wait for it to print its URLs`,
    );
  }
  const stack = JSON.parse(await readFile(stackPath, "utf8")) as {
    workerUrl?: string;
    emulators?: { deepgram?: string; twilio?: string };
    databaseUrl?: string;
    wsProxy?: string;
  };
  const url = values.url ?? stack.workerUrl ?? "http://127.0.0.1:8787";
  const deepgram = stack.emulators?.deepgram;
  if (!deepgram) throw new Error(`${STACK_FILE} names no Deepgram emulator: restart \`npm run dev\``);
  if (!loopback(url) || !loopback(deepgram))
    throw new Error("load only targets loopback addresses (127.0.0.1)");
  const health = await fetch(new URL("/healthz", url), { signal: AbortSignal.timeout(5_000) }).catch(
    () => null,
  );
  if (health === null) throw new Error(`nothing answers on ${url}: start \`npm run dev\` first`);
  await health.body?.cancel();
  const scriptPath = values.script ?? "src/tooling/simulator/examples/booking.json";
  const script = parseCallScript(JSON.parse(await readFile(scriptPath, "utf8")), scriptPath);
  if (script.turns.some((t) => t.fixture !== undefined))
    throw new Error("load scripts use synthetic speech: no fixtures");

  const target = {
    baseUrl: url,
    authToken: LOCAL_CREDENTIALS.twilioAuthToken,
    accountSid: LOCAL_CREDENTIALS.twilioAccountSid,
    deepgramEmulatorUrl: deepgram,
    ...(stack.emulators?.twilio ? { twilioEmulatorUrl: stack.emulators.twilio } : {}),
  };
  const run = (calls: number) =>
    runLevel({
      calls,
      holdMs,
      rampMs,
      url,
      target,
      script,
      scriptPath,
      endpointingMs,
      records: stack.databaseUrl ? { databaseUrl: stack.databaseUrl, wsProxyUrl: stack.wsProxy } : null,
    });
  if (values.sweep === undefined) {
    const report = await run(levels[0] ?? 1);
    console.log(formatLoadReport(report));
    if (values.json) {
      await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
      console.error(`wrote ${values.json}`);
    }
    return report.failed === 0 ? 0 : 1;
  }
  const reports: LoadReport[] = [];
  for (const calls of levels) {
    const report = await run(calls);
    console.log(`${formatLoadReport(report)}\n`);
    reports.push(report);
    if (report.run.targetDownAtMs != null) {
      console.error(`the Worker went down at ${calls} calls: the sweep stops here`);
      break;
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // let the Worker flush and go idle
  }
  const sweep = summarizeSweep(reports, limitMs);
  console.log(formatSweep(sweep));
  const out = values.json ?? SWEEP_FILE;
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, `${JSON.stringify({ at: new Date().toISOString(), ...sweep, reports }, null, 2)}\n`);
  console.error(`wrote ${out}`);
  return 0;
}

interface LevelOptions {
  calls: number;
  holdMs: number;
  rampMs: number;
  url: string;
  target: LoadTarget;
  script: CallScript;
  scriptPath: string;
  endpointingMs: number[];
  /** Where the Worker's turn records land (provider time is subtracted from our overhead). */
  records: TurnRecordSource | null;
}

/** Runs one load level: N concurrent calls (held or one wave), with workerd CPU and memory read from /proc. */
async function runLevel(o: LevelOptions): Promise<LoadReport> {
  const { calls, holdMs, rampMs, url, target, script, scriptPath, endpointingMs, records } = o;
  const port = Number(new URL(url).port || "80");
  const pids = findWorkerdPids(port);
  const ticksPerSecond = clockTicksPerSecond();
  const cpuBefore = sampleCpuTicks(pids);
  const machineBefore = sampleMachineTicks();
  let peakRssKb = sampleMemoryKb(pids).rssKb;
  const sampler = setInterval(() => {
    peakRssKb = Math.max(peakRssKb, sampleMemoryKb(pids).rssKb);
  }, 500);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  console.error(
    `placing ${calls} ${holdMs > 0 ? `concurrent calls for ${holdMs / 1000} s` : "calls"} (starts over ${rampMs} ms) on ${url}; workerd pids: ${pids.join(",") || "none found"}`,
  );
  const t0 = Date.now();
  let done = 0;
  const results: LoadCallResult[] = [];
  // Set once the Worker stops answering its health check: no slot places another call.
  let targetDownAtMs: number | null = null;
  const checkTarget = async () => {
    if (targetDownAtMs !== null) return;
    const ok = await fetch(new URL("/healthz", url), { signal: AbortSignal.timeout(5_000) })
      .then(async (r) => {
        await r.body?.cancel();
        return r.ok;
      })
      .catch(() => false);
    if (!ok && targetDownAtMs === null) {
      targetDownAtMs = Date.now() - t0;
      console.error(`the Worker stopped answering at ${(targetDownAtMs / 1000).toFixed(0)} s: no more calls`);
    }
  };
  await Promise.all(
    Array.from({ length: calls }, async (_, i) => {
      await new Promise((r) => setTimeout(r, calls === 1 ? 0 : (rampMs * i) / (calls - 1)));
      while (targetDownAtMs === null) {
        const r = await runLoadCall(target, script, { callTimeoutMs: 180_000 });
        results.push(r);
        done++;
        const every = holdMs > 0 ? calls : Math.max(1, Math.floor(calls / 10));
        if (done % every === 0 || (holdMs === 0 && done === calls)) {
          console.error(`${done} calls finished (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        }
        if (Date.now() - t0 >= holdMs) break;
        if (!r.ok) {
          // A failed call: is the Worker still there? Then back off a moment before the next one.
          await checkTarget();
          await new Promise((res) => setTimeout(res, 1_000));
        }
      }
    }),
  );
  const wallMs = Date.now() - t0;
  clearInterval(sampler);
  lag.disable();
  const cpuAfter = sampleCpuTicks(pids);
  const machineAfter = sampleMachineTicks();
  const mem = sampleMemoryKb(pids);
  peakRssKb = Math.max(peakRssKb, mem.rssKb);
  const turns = await (records
    ? fetchTurnRecords(
        records,
        results.map((r) => r.callSid),
        script.turns.length,
      ).catch((err: unknown) => {
        console.error(`turn records not read (${err instanceof Error ? err.message : String(err)})`);
        return null;
      })
    : null);
  const outcomes = results.map((r) => {
    const records = recordsByTurn(turns?.get(r.callSid) ?? [], script.turns.length);
    return {
      ...r,
      providerMs: records.map((rec) => (rec === null ? null : providerMs(rec))),
      hops: records.map((rec, i) => {
        const times = r.turnTimes[i];
        return rec && times ? overheadHops(rec, times) : null;
      }),
    };
  });
  return buildLoadReport(
    {
      calls,
      placed: results.length,
      holdMs,
      rampMs,
      url,
      script: scriptPath,
      endpointingMs,
      wallMs,
      generatorLagP99Ms: lag.count > 0 ? lag.percentile(99) / 1e6 : null,
      targetDownAtMs,
      machineBusy:
        machineBefore && machineAfter && machineAfter.total > machineBefore.total
          ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)
          : null,
    },
    outcomes,
    {
      pids,
      cpu:
        pids.length > 0 && pids.every((p) => cpuAfter.has(p))
          ? cpuPerCallMinute(
              cpuBefore,
              cpuAfter,
              ticksPerSecond,
              results.map((r) => r.durationMs),
            )
          : null,
      peakRssMb: pids.length > 0 ? peakRssKb / 1024 : null,
      vmHwmMb: pids.length > 0 && pids.every((p) => cpuAfter.has(p)) ? mem.hwmKb / 1024 : null,
    },
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
