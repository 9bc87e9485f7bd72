/**
 * `npm run explore:calls -- [--calls N] [--seed S]`: generate N whole calls (default 2,000) and check
 * every invariant on each; prints the counts and the first failing scenario (as JSON, ready to become a
 * named regression test). Exits non-zero when any invariant was violated.
 */
import { parseArgs } from "node:util";
import { exploreCalls } from "../simulator/virtual/explore";

const { values } = parseArgs({
  options: { calls: { type: "string", default: "2000" }, seed: { type: "string" } },
});
const calls = Number(values.calls);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (!Number.isInteger(calls) || calls < 1 || !Number.isFinite(seed)) {
  console.error("usage: npm run explore:calls -- [--calls N] [--seed S]");
  process.exit(2);
}
const r = await exploreCalls(calls, seed);
console.log(
  `explored ${r.calls} calls (seed ${r.seed}, ${Math.round(r.virtualMs / 60_000)} call-minutes) in ${(r.wallMs / 1000).toFixed(1)} s`,
);
const names = Object.entries(r.violations);
console.log(names.length === 0 ? "invariant violations: 0" : "invariant violations:");
for (const [name, n] of names) console.log(`  ${name}: ${n} calls`);
if (r.firstFailure) {
  console.log(`\nfirst failing scenario:\n${JSON.stringify(r.firstFailure.scenario)}`);
  for (const v of r.firstFailure.violations) console.log(`  ${v.invariant}: ${v.detail}`);
  console.log(r.firstFailure.trace);
  process.exitCode = 1;
}
