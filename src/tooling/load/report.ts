/**
 * The load-test report, pure: turns per-call results and /proc samples into the summary figures
 * (latency and overhead percentiles, late/dropped frames, completions, CPU per call-minute, memory)
 * and formats them as text.
 */
import type { CpuAccount } from "./proc-stats";
import type { OverheadHops } from "./provider-time";
import {
  type AgentMessage,
  analyzeAgentFrames,
  type Distribution,
  distribution,
  type TurnTimes,
  turnOverheadMs,
} from "./stats";

/** What the summary needs from each call. */
export interface CallOutcome {
  ok: boolean;
  error: string | null;
  durationMs: number;
  turnLatenciesMs: (number | null)[];
  agentMessages: AgentMessage[];
  /** Per scripted turn, the provider time the Worker measured (LLM, TTS); null = not attributed. */
  providerMs?: (number | null)[];
  /** Per scripted turn, when the STT final left the provider and when the phone got the reply's first audio. */
  turnTimes?: (TurnTimes | null)[];
  /** Per scripted turn, where that overhead went. */
  hops?: (OverheadHops | null)[];
}

/** Run settings echoed in the report. */
export interface LoadRunInfo {
  /** Concurrent calls (slots). */
  calls: number;
  /** Calls placed in all (more than `calls` when slots were held up with back-to-back calls). */
  placed?: number;
  /** How long each slot kept placing calls (0 = one call per slot). */
  holdMs?: number;
  rampMs: number;
  url: string;
  script: string;
  /** Endpointing silence subtracted per turn index (the last value repeats). */
  endpointingMs: number[];
  wallMs: number;
  /** Load generator event-loop delay p99 (ms): how late the simulated phones' own timers ran. */
  generatorLagP99Ms: number | null;
  /** Set when the Worker stopped answering its health check during the run (ms after the start). */
  targetDownAtMs?: number | null;
  /** Share of the whole machine (all cores) busy during the run, 0..1: load generator, emulators and Worker together. */
  machineBusy?: number | null;
}

/** The whole load report. */
export interface LoadReport {
  run: LoadRunInfo;
  completed: number;
  failed: number;
  errors: Record<string, number>;
  turnLatencyMs: Distribution;
  /** Latency beyond the endpointing silence: our overhead plus the providers' (emulators') time. */
  beyondEndpointingMs: Distribution;
  /**
   * Our overhead: from the STT final leaving the provider to the agent's first audio at the phone,
   * less the LLM/TTS time the Worker measured. Unattributed turns use the latency beyond endpointing.
   */
  overheadMs: Distribution;
  /** Turns whose final and provider time were both known. */
  attributedTurns: number;
  /** Our overhead split at the Worker's timestamps (turns with every timestamp known). */
  hops: { toWorkerMs: Distribution; inWorkerMs: Distribution; toPhoneMs: Distribution };
  frames: {
    utterances: number;
    frames: number;
    lateFrames: number;
    droppedFrames: number;
    rawGapsOver40Ms: number;
    worstUnderrunMs: number;
  };
  workerd: {
    pids: number[];
    cpu: CpuAccount | null;
    peakRssMb: number | null;
    vmHwmMb: number | null;
  };
}

/** Endpointing silence for turn `index` (the last listed value repeats). */
export function endpointingFor(list: readonly number[], index: number): number {
  return list[Math.min(index, list.length - 1)] ?? 0;
}

/** Build the report. */
export function buildLoadReport(
  run: LoadRunInfo,
  calls: readonly CallOutcome[],
  workerd: LoadReport["workerd"],
): LoadReport {
  const latencies: number[] = [];
  const beyond: number[] = [];
  const overheads: number[] = [];
  let attributedTurns = 0;
  const hops = { toWorkerMs: [] as number[], inWorkerMs: [] as number[], toPhoneMs: [] as number[] };
  const errors: Record<string, number> = {};
  const frames = {
    utterances: 0,
    frames: 0,
    lateFrames: 0,
    droppedFrames: 0,
    rawGapsOver40Ms: 0,
    worstUnderrunMs: 0,
  };
  for (const c of calls) {
    if (!c.ok && c.error !== null) errors[c.error] = (errors[c.error] ?? 0) + 1;
    for (const [i, l] of c.turnLatenciesMs.entries()) {
      if (l === null) continue;
      latencies.push(l);
      const provider = c.providerMs?.[i] ?? null;
      const times = c.turnTimes?.[i] ?? null;
      const fromFinal = times === null ? null : times.agentReplyAtMs - times.finalSentAtMs;
      beyond.push(turnOverheadMs(l, endpointingFor(run.endpointingMs, i)));
      if (provider !== null && fromFinal !== null) {
        attributedTurns++;
        overheads.push(fromFinal - provider);
        const h = c.hops?.[i];
        if (h) {
          hops.toWorkerMs.push(h.toWorkerMs);
          hops.inWorkerMs.push(h.inWorkerMs);
          hops.toPhoneMs.push(h.toPhoneMs);
        }
      } else {
        // Unattributed: everything beyond the endpointing silence counts as ours.
        overheads.push(turnOverheadMs(l, endpointingFor(run.endpointingMs, i), provider ?? 0));
      }
    }
    const f = analyzeAgentFrames(c.agentMessages);
    frames.utterances += f.utterances;
    frames.frames += f.frames;
    frames.lateFrames += f.lateFrames;
    frames.droppedFrames += f.droppedFrames;
    frames.rawGapsOver40Ms += f.rawGaps;
    frames.worstUnderrunMs = Math.max(frames.worstUnderrunMs, f.worstUnderrunMs);
  }
  const completed = calls.filter((c) => c.ok).length;
  return {
    run,
    completed,
    failed: calls.length - completed,
    errors,
    turnLatencyMs: distribution(latencies),
    beyondEndpointingMs: distribution(beyond),
    overheadMs: distribution(overheads),
    attributedTurns,
    hops: {
      toWorkerMs: distribution(hops.toWorkerMs),
      inWorkerMs: distribution(hops.inWorkerMs),
      toPhoneMs: distribution(hops.toPhoneMs),
    },
    frames: { ...frames, worstUnderrunMs: Math.round(frames.worstUnderrunMs) },
    workerd,
  };
}

const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)} ms`);

/** The report as text. */
export function formatLoadReport(r: LoadReport): string {
  const d = (x: Distribution) =>
    `p50 ${ms(x.p50)}  p95 ${ms(x.p95)}  p99 ${ms(x.p99)}  max ${ms(x.max)}  (${x.count} turns)`;
  const cpu = r.workerd.cpu;
  const lines = [
    r.run.holdMs
      ? `load: ${r.run.calls} concurrent calls held for ${Math.round(r.run.holdMs / 1000)} s (${r.run.placed ?? r.completed + r.failed} placed back to back, first starts spread over ${r.run.rampMs} ms) against ${r.run.url} (${r.run.script}), ${(r.run.wallMs / 1000).toFixed(1)} s wall`
      : `load: ${r.run.calls} calls ramped over ${r.run.rampMs} ms against ${r.run.url} (${r.run.script}), ${(r.run.wallMs / 1000).toFixed(1)} s wall`,
    `calls: ${r.completed} completed, ${r.failed} failed`,
    ...(r.run.targetDownAtMs == null
      ? []
      : [`the Worker stopped answering ${Math.round(r.run.targetDownAtMs / 1000)} s into the run`]),
    ...Object.entries(r.errors).map(([e, n]) => `  ${n} × ${e}`),
    `turn latency (caller's last speech frame → agent's first audio frame): ${d(r.turnLatencyMs)}`,
    `beyond endpointing (latency − endpointing silence ${r.run.endpointingMs.join("/")} ms per turn): ${d(r.beyondEndpointingMs)}`,
    `our overhead (STT final sent → agent's first audio at the phone, less the LLM/TTS time the Worker measured; ${r.attributedTurns} of ${r.turnLatencyMs.count} turns attributed): ${d(r.overheadMs)}`,
    `  where it went, p50/p99 (${r.hops.inWorkerMs.count} turns): STT → Worker ${ms(r.hops.toWorkerMs.p50)}/${ms(r.hops.toWorkerMs.p99)}, in the Worker ${ms(r.hops.inWorkerMs.p50)}/${ms(r.hops.inWorkerMs.p99)}, Worker → phone ${ms(r.hops.toPhoneMs.p50)}/${ms(r.hops.toPhoneMs.p99)}`,
    `outbound frames: ${r.frames.frames} in ${r.frames.utterances} utterances; late (playback underrun > 40 ms) ${r.frames.lateFrames}, dropped ${r.frames.droppedFrames}, worst underrun ${r.frames.worstUnderrunMs} ms; raw arrival gaps > 40 ms ${r.frames.rawGapsOver40Ms}`,
    cpu
      ? `workerd CPU: ${Math.round(cpu.cpuMs)} ms over ${cpu.callMinutes.toFixed(2)} call-minutes = ${cpu.cpuMsPerCallMinute === null ? "-" : Math.round(cpu.cpuMsPerCallMinute)} ms per call-minute (pids ${r.workerd.pids.join(",")})`
      : "workerd CPU: not measured (no workerd process found under the wrangler tree serving the port)",
    `workerd memory: peak sampled RSS ${r.workerd.peakRssMb === null ? "-" : `${r.workerd.peakRssMb.toFixed(0)} MB`}, VmHWM ${r.workerd.vmHwmMb === null ? "-" : `${r.workerd.vmHwmMb.toFixed(0)} MB`} (lifetime peak)`,
    `load generator event-loop delay p99: ${ms(r.run.generatorLagP99Ms)}${r.run.machineBusy == null ? "" : `; machine CPU busy ${Math.round(r.run.machineBusy * 100)}% of all cores`}`,
  ];
  return lines.join("\n");
}

/** One level of a sweep, as the summary table shows it. */
export interface SweepLevel {
  calls: number;
  placed: number;
  failed: number;
  overheadP99Ms: number | null;
  latencyP99Ms: number | null;
  lateOrDroppedFrames: number;
  cpuMsPerCallMinute: number | null;
  peakRssMb: number | null;
  machineBusy: number | null;
  /** Within the limit: every call completed, no late or dropped frame, p99 overhead under the limit. */
  ok: boolean;
  /** The Worker stopped answering during this level (seconds into it). */
  downAfterS: number | null;
}

/** A sweep's levels and its headroom: the highest level that, with every lower level, stayed within the limit. */
export interface SweepSummary {
  limitMs: number;
  levels: SweepLevel[];
  headroomCalls: number | null;
}

/** Summarise a sweep (levels in any order). */
export function summarizeSweep(reports: readonly LoadReport[], limitMs: number): SweepSummary {
  const levels = reports
    .map((r): SweepLevel => {
      const lateOrDropped = r.frames.lateFrames + r.frames.droppedFrames;
      const p99 = r.overheadMs.p99;
      return {
        calls: r.run.calls,
        placed: r.run.placed ?? r.completed + r.failed,
        failed: r.failed,
        overheadP99Ms: p99,
        latencyP99Ms: r.turnLatencyMs.p99,
        lateOrDroppedFrames: lateOrDropped,
        cpuMsPerCallMinute: r.workerd.cpu?.cpuMsPerCallMinute ?? null,
        peakRssMb: r.workerd.peakRssMb,
        machineBusy: r.run.machineBusy ?? null,
        ok: r.failed === 0 && lateOrDropped === 0 && p99 !== null && p99 < limitMs,
        downAfterS: r.run.targetDownAtMs == null ? null : Math.round(r.run.targetDownAtMs / 1000),
      };
    })
    .sort((a, b) => a.calls - b.calls);
  let headroomCalls: number | null = null;
  for (const l of levels) {
    if (!l.ok) break;
    headroomCalls = l.calls;
  }
  return { limitMs, levels, headroomCalls };
}

/** The sweep as a Markdown table plus the headroom line. */
export function formatSweep(s: SweepSummary): string {
  const cell = (v: number | null, unit = "") => (v === null ? "-" : `${Math.round(v)}${unit}`);
  const rows = s.levels.map(
    (l) =>
      `| ${l.calls} | ${l.placed} | ${l.failed} | ${cell(l.latencyP99Ms, " ms")} | ${cell(l.overheadP99Ms, " ms")} | ${l.lateOrDroppedFrames} | ${cell(l.cpuMsPerCallMinute, " ms")} | ${cell(l.peakRssMb, " MB")} | ${l.machineBusy === null ? "-" : `${Math.round(l.machineBusy * 100)}%`} | ${l.ok ? "yes" : l.downAfterS === null ? "no" : `no: the Worker went down after ${l.downAfterS} s`} |`,
  );
  return [
    "| concurrent calls | placed | failed | turn latency p99 | our overhead p99 | late/dropped frames | workerd CPU per call-minute | workerd peak RSS | machine CPU | within limit |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
    "",
    s.headroomCalls === null
      ? `headroom: no level kept p99 overhead under ${s.limitMs} ms with every call completed and no late or dropped frame`
      : `headroom: ${s.headroomCalls} concurrent calls (highest level that, with every level below it, kept p99 overhead under ${s.limitMs} ms, every call completed, no late or dropped frame)`,
  ].join("\n");
}
