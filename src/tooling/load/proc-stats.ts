/**
 * Reading the Worker runtime's cost from Linux `/proc` text, pure: `/proc/<pid>/stat` CPU ticks,
 * `/proc/<pid>/status` memory, `/proc/net/tcp` listeners, the workerd processes under a wrangler
 * process tree, and CPU ms per call-minute from before/after samples.
 */

/** CPU ticks and parent of one process, from `/proc/<pid>/stat`. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Parse `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // After the comm: state(3) ppid(4) … utime(14) stime(15); fields[0] is field 3.
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![pid, ppid, utime, stime].every(Number.isFinite)) return null;
  return { pid, comm: text.slice(open + 1, close), ppid, cpuTicks: utime + stime };
}

/** Memory of one process in kB, from `/proc/<pid>/status` (null when a line is absent). */
export function parseProcStatus(text: string): { vmRssKb: number | null; vmHwmKb: number | null } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, "m").exec(text);
    return m?.[1] === undefined ? null : Number(m[1]);
  };
  return { vmRssKb: kb("VmRSS"), vmHwmKb: kb("VmHWM") };
}

/** Socket inodes listening on `port` in `/proc/net/tcp` or `tcp6` text (state 0A = LISTEN). */
export function listeningInodes(tcpText: string, port: number): number[] {
  const out: number[] = [];
  for (const line of tcpText.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (local === undefined || cols[3] !== "0A") continue;
    const hexPort = local.slice(local.lastIndexOf(":") + 1);
    if (Number.parseInt(hexPort, 16) === port && cols[9] !== undefined) out.push(Number(cols[9]));
  }
  return out;
}

/** A process as seen in `/proc`. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
}

/**
 * The workerd processes serving a port: climb from the listener to the outermost ancestor whose
 * command line mentions wrangler (the `wrangler dev` tree; the listener itself when none does),
 * then every descendant of it (the listener included) whose name or command is workerd.
 */
export function workerdPidsUnder(procs: readonly ProcInfo[], listenerPid: number): number[] {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  let root = listenerPid;
  for (let p = byPid.get(listenerPid); p !== undefined; p = byPid.get(p.ppid)) {
    if (/wrangler/.test(p.cmdline)) root = p.pid;
    if (p.ppid === p.pid || p.ppid <= 1) break;
  }
  const children = new Map<number, number[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const tree: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    if (pid === undefined || tree.includes(pid)) continue;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree
    .filter((pid) => {
      const p = byPid.get(pid);
      return p !== undefined && (p.comm === "workerd" || /(^|\/)workerd(\s|$)/.test(p.cmdline));
    })
    .sort((a, b) => a - b);
}

/** CPU used between two samples, per call-minute. */
export interface CpuAccount {
  cpuMs: number;
  callMinutes: number;
  cpuMsPerCallMinute: number | null;
}

/**
 * CPU ms per call-minute: the ticks the processes gained between `before` and `after` (a process
 * missing from `before` counts from 0; one gone by `after` is not counted) converted with
 * `ticksPerSecond` (`getconf CLK_TCK`), divided by the summed call durations in minutes.
 */
export function cpuPerCallMinute(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  ticksPerSecond: number,
  callDurationsMs: readonly number[],
): CpuAccount {
  let ticks = 0;
  for (const [pid, t] of after) ticks += Math.max(0, t - (before.get(pid) ?? 0));
  const cpuMs = (ticks * 1000) / ticksPerSecond;
  const callMinutes = callDurationsMs.reduce((s, d) => s + d, 0) / 60_000;
  return { cpuMs, callMinutes, cpuMsPerCallMinute: callMinutes > 0 ? cpuMs / callMinutes : null };
}
