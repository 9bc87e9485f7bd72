/**
 * Explores generated calls: runs `calls` scenarios through the real engine on the virtual clock and
 * counts invariant violations. Used by `npm run explore:calls` and `npm run bench` (long runs) and by
 * the property suite in `npm test` (short runs through fast-check, which also shrinks failures).
 */
import fc from "fast-check";
import { checkInvariants, describeTrace, type Violation } from "./invariants";
import { type Scenario, scenarioArb } from "./scenario";
import { runVirtualCall } from "./world";

export interface ExploreReport {
  calls: number;
  seed: number;
  wallMs: number;
  /** Virtual call time covered, in ms. */
  virtualMs: number;
  violations: Record<string, number>;
  /** The first failing scenario and what it broke. */
  firstFailure: { scenario: Scenario; violations: Violation[]; trace: string } | null;
}

/** Run `calls` generated calls from `seed`. */
export async function exploreCalls(calls: number, seed: number): Promise<ExploreReport> {
  const started = performance.now();
  const report: ExploreReport = {
    calls: 0,
    seed,
    wallMs: 0,
    virtualMs: 0,
    violations: {},
    firstFailure: null,
  };
  for (const scenario of fc.sample(scenarioArb, { numRuns: calls, seed })) {
    const trace = await runVirtualCall(scenario);
    report.calls++;
    report.virtualMs += (trace.endedAtMs ?? trace.startMs) - trace.startMs;
    const violations = checkInvariants(trace);
    for (const v of violations) report.violations[v.invariant] = (report.violations[v.invariant] ?? 0) + 1;
    if (violations.length > 0 && report.firstFailure === null)
      report.firstFailure = { scenario, violations, trace: describeTrace(trace) };
  }
  report.wallMs = performance.now() - started;
  return report;
}
