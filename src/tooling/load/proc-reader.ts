/**
 * Node shell over `/proc`: finds the workerd processes behind a local port and samples their CPU
 * ticks and memory. Linux only; returns empty results elsewhere.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import {
  listeningInodes,
  type ProcInfo,
  parseProcStat,
  parseProcStatus,
  workerdPidsUnder,
} from "./proc-stats";

function read(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    const parsed = stat === null ? null : parseProcStat(stat);
    if (parsed === null) continue;
    const cmdline = (read(`/proc/${name}/cmdline`) ?? "").replace(/\0/g, " ").trim();
    out.push({ pid: parsed.pid, ppid: parsed.ppid, comm: parsed.comm, cmdline });
  }
  return out;
}

function pidOwningInode(inodes: readonly number[]): number | null {
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${name}/fd/${fd}`))) return Number(name);
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return null;
}

/** The workerd pids of the `wrangler dev` tree that listens on `port` (empty when not found). */
export function findWorkerdPids(port: number): number[] {
  const tcp = `${read("/proc/net/tcp") ?? ""}\n${(read("/proc/net/tcp6") ?? "").split("\n").slice(1).join("\n")}`;
  const listener = pidOwningInode(listeningInodes(tcp, port));
  if (listener === null) return [];
  return workerdPidsUnder(allProcs(), listener);
}

/** utime+stime ticks per pid (pids that vanished are left out). */
export function sampleCpuTicks(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = read(`/proc/${pid}/stat`);
    const parsed = s === null ? null : parseProcStat(s);
    if (parsed) out.set(pid, parsed.cpuTicks);
  }
  return out;
}

/** Summed VmRSS and VmHWM (kB) over the pids. */
export function sampleMemoryKb(pids: readonly number[]): { rssKb: number; hwmKb: number } {
  let rssKb = 0;
  let hwmKb = 0;
  for (const pid of pids) {
    const s = read(`/proc/${pid}/status`);
    if (s === null) continue;
    const m = parseProcStatus(s);
    rssKb += m.vmRssKb ?? 0;
    hwmKb += m.vmHwmKb ?? 0;
  }
  return { rssKb, hwmKb };
}

/** Busy and total jiffies of the whole machine (all cores), from the first line of /proc/stat. */
export function sampleMachineTicks(): { busy: number; total: number } | null {
  const line = read("/proc/stat")?.split("\n")[0];
  if (!line?.startsWith("cpu ")) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Clock ticks per second (`getconf CLK_TCK`, 100 when unavailable). */
export function clockTicksPerSecond(): number {
  try {
    const v = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
}
