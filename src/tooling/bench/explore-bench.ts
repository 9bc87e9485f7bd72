/**
 * Whole-call exploration in the bench: many generated calls (any order of AMD, marks, STT shapes,
 * provider faults, barge-ins, hang-ups) through the real engine on a virtual clock, with the count of
 * invariant violations found. The same suite runs briefly in `npm test`.
 */
import { exploreCalls } from "../simulator/virtual/explore";

export const EXPLORE_NOTES =
  "explore: generated whole calls through the real CallEngine on a virtual clock; violations must be 0 " +
  "(each invariant is named in src/tooling/simulator/virtual/invariants.ts; `npm run explore:calls -- --calls N --seed S` reproduces a run).";

export async function runExploreBench(): Promise<{ name: string; value: number; unit: string }[]> {
  const calls = Number(process.env.BENCH_EXPLORE_CALLS ?? 1_000);
  const r = await exploreCalls(calls, Number(process.env.BENCH_EXPLORE_SEED ?? Date.now() % 100_000));
  const total = Object.values(r.violations).reduce((a, b) => a + b, 0);
  if (r.firstFailure) console.error(`explore: first failure\n${r.firstFailure.trace}`);
  return [
    { name: "explore.calls", value: r.calls, unit: "calls" },
    { name: "explore.virtual_call_time", value: Math.round(r.virtualMs / 60_000), unit: "call-min" },
    { name: "explore.wall_per_call", value: Math.round(r.wallMs / Math.max(1, r.calls)), unit: "ms" },
    { name: "explore.violations", value: total, unit: "calls" },
    { name: "explore.seed", value: r.seed, unit: "seed" },
  ];
}
