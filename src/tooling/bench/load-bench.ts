/**
 * The load figures in the bench table: read from the last `npm run load -- --sweep` (it needs a running
 * `npm run dev` and about twenty minutes, so the bench gathers its result instead of re-running it).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { SweepSummary } from "../load/report";

interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

/** Thrown when there is nothing to report; the bench lists the module as skipped. */
export class BenchSkip extends Error {
  override name = "BenchSkip";
}

const SWEEP_FILE = fileURLToPath(new URL("../../bench-results/load-sweep.json", import.meta.url));

/** Turns a recorded sweep into bench rows. Pure. */
export function sweepRows(sweep: SweepSummary): BenchResult[] {
  const rows: BenchResult[] = [
    { name: "load.headroom_calls", value: sweep.headroomCalls ?? 0, unit: "concurrent calls" },
    { name: "load.overhead_limit", value: sweep.limitMs, unit: "ms (p99)" },
  ];
  for (const l of sweep.levels) {
    const at = `load.${l.calls}_calls`;
    rows.push({ name: `${at}.failed_calls`, value: l.failed, unit: `of ${l.placed}` });
    if (l.downAfterS != null) rows.push({ name: `${at}.worker_down_after`, value: l.downAfterS, unit: "s" });
    if (l.latencyP99Ms !== null)
      rows.push({ name: `${at}.turn_latency_p99`, value: l.latencyP99Ms, unit: "ms" });
    if (l.overheadP99Ms !== null)
      rows.push({ name: `${at}.overhead_p99`, value: l.overheadP99Ms, unit: "ms" });
    rows.push({ name: `${at}.late_or_dropped_frames`, value: l.lateOrDroppedFrames, unit: "frames" });
    if (l.cpuMsPerCallMinute !== null)
      rows.push({ name: `${at}.workerd_cpu`, value: l.cpuMsPerCallMinute, unit: "ms per call-minute" });
    if (l.machineBusy !== null)
      rows.push({
        name: `${at}.machine_cpu_busy`,
        value: Math.round(l.machineBusy * 100),
        unit: "% of all cores",
      });
  }
  return rows;
}

export async function runLoadBench(): Promise<BenchResult[]> {
  if (!existsSync(SWEEP_FILE)) {
    throw new BenchSkip(
      "no load sweep recorded: start `npm run dev`, then `npm run load -- --sweep 1,5,10,20,30,50 --hold-s 90`",
    );
  }
  const recorded = JSON.parse(await readFile(SWEEP_FILE, "utf8")) as SweepSummary & { at?: string };
  if (!Array.isArray(recorded.levels)) throw new Error(`${SWEEP_FILE} is not a load sweep`);
  process.stderr.write(
    `bench: load figures from the sweep recorded at ${recorded.at ?? "an unknown time"}\n`,
  );
  return sweepRows(recorded);
}

export const LOAD_NOTES = [
  "load.* : from the last `npm run load -- --sweep …` against `npm run dev` on this machine (bench-results/load-sweep.json):",
  "N concurrent simulated calls held with back-to-back calls, first starts spread over one call so turns do not line up.",
  "overhead = caller-heard latency - endpointing silence - the LLM/TTS provider time the Worker recorded for that turn;",
  "headroom = highest N that, with every N below it, kept p99 overhead under the limit with no failed call and no late",
  "or dropped frame. workerd CPU = both workerd processes of `wrangler dev` (entry proxy + Worker) per call-minute.",
].join("\n");
