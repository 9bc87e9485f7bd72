import { describe, expect, it } from "vitest";
import {
  cpuPerCallMinute,
  listeningInodes,
  parseProcStat,
  parseProcStatus,
  workerdPidsUnder,
} from "../../../src/tooling/load/proc-stats";

describe("parseProcStat", () => {
  it("reads ppid and utime+stime past a command name with spaces and parentheses", () => {
    const line =
      "4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 9 0 100 1000 50 18446744073709551615";
    expect(parseProcStat(line)).toEqual({ pid: 4242, comm: "my (odd) proc", ppid: 17, cpuTicks: 1801 });
  });
  it("rejects garbage", () => {
    expect(parseProcStat("nonsense")).toBeNull();
  });
});

describe("parseProcStatus", () => {
  it("reads VmRSS and VmHWM", () => {
    const text = "Name:\tworkerd\nVmHWM:\t  272000 kB\nVmRSS:\t  250000 kB\n";
    expect(parseProcStatus(text)).toEqual({ vmRssKb: 250000, vmHwmKb: 272000 });
    expect(parseProcStatus("Name:\tx\n")).toEqual({ vmRssKb: null, vmHwmKb: null });
  });
});

describe("listeningInodes", () => {
  it("finds LISTEN sockets on the port only", () => {
    const text = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:2253 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55501 1 0",
      "   1: 0100007F:2253 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 55502 1 0",
      "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55503 1 0",
    ].join("\n");
    expect(listeningInodes(text, 8787)).toEqual([55501]);
  });
});

describe("workerdPidsUnder", () => {
  const procs = [
    { pid: 10, ppid: 1, comm: "npm run dev", cmdline: "npm run dev" },
    { pid: 11, ppid: 10, comm: "node", cmdline: "node src/tooling/dev/dev.ts" },
    { pid: 12, ppid: 11, comm: "node", cmdline: "node node_modules/wrangler/bin/wrangler.js dev" },
    { pid: 13, ppid: 12, comm: "node", cmdline: "node node_modules/wrangler/wrangler-dist/cli.js dev" },
    { pid: 14, ppid: 13, comm: "workerd", cmdline: "/x/bin/workerd serve" },
    { pid: 15, ppid: 13, comm: "workerd", cmdline: "/x/bin/workerd serve" },
    // Another project's vitest workerd must not be counted.
    { pid: 20, ppid: 1, comm: "node", cmdline: "node vitest" },
    { pid: 21, ppid: 20, comm: "workerd", cmdline: "/x/bin/workerd serve" },
  ];
  it("takes the workerd processes of the wrangler tree that owns the listener", () => {
    expect(workerdPidsUnder(procs, 13)).toEqual([14, 15]);
    expect(workerdPidsUnder(procs, 14)).toEqual([14, 15]);
  });
  it("falls back to the listener's own subtree outside wrangler", () => {
    expect(workerdPidsUnder(procs, 21)).toEqual([21]);
  });
});

describe("cpuPerCallMinute", () => {
  it("converts tick deltas and divides by summed call minutes", () => {
    const before = new Map([
      [1, 1000],
      [2, 50],
    ]);
    const after = new Map([
      [1, 1300],
      [2, 150],
      [3, 100],
    ]);
    // 300 + 100 + 100 = 500 ticks at 100/s = 5000 ms over 2 call-minutes.
    expect(cpuPerCallMinute(before, after, 100, [60_000, 30_000, 30_000])).toEqual({
      cpuMs: 5000,
      callMinutes: 2,
      cpuMsPerCallMinute: 2500,
    });
  });
  it("has no rate without call time", () => {
    expect(cpuPerCallMinute(new Map(), new Map([[1, 5]]), 100, []).cpuMsPerCallMinute).toBeNull();
  });
});
