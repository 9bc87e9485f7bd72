/**
 * `npm run bench`: runs every benchmark module in turn, prints one table (name | value | unit | source)
 * and writes `bench-results/latest.json` and a README-ready `bench-results/latest.md`. Figures only,
 * no pass/fail: the exit code is non-zero only when a module crashed.
 * Options: `--only audio,turn-latency` runs a subset.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";

/** One figure, as every bench module returns it. */
interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

type Runner = () => Promise<BenchResult[]>;

interface BenchModule {
  source: string;
  /** Module path relative to this file. */
  file: string;
  exportName: string;
  /** Name of an exported string explaining how to read the module's figures. */
  notesExport?: string;
}

const MODULES: readonly BenchModule[] = [
  { source: "audio", file: "../bench/audio-bench.ts", exportName: "runAudioBench" },
  { source: "turn", file: "../bench/turn-bench.ts", exportName: "runTurnBench" },
  { source: "store", file: "../bench/store-bench.ts", exportName: "runStoreBench" },
  { source: "handlers", file: "../bench/handlers-bench.ts", exportName: "runHandlersBench" },
  { source: "dashboard", file: "../bench/dashboard-bench.ts", exportName: "runDashboardBench" },
  {
    source: "turn-latency",
    file: "../bench/turn-latency-bench.ts",
    exportName: "runTurnLatencyBench",
    notesExport: "TURN_LATENCY_NOTES",
  },
  { source: "load", file: "../bench/load-bench.ts", exportName: "runLoadBench", notesExport: "LOAD_NOTES" },
  {
    source: "explore",
    file: "../bench/explore-bench.ts",
    exportName: "runExploreBench",
    notesExport: "EXPLORE_NOTES",
  },
];

interface Row extends BenchResult {
  source: string;
}

interface Outcome {
  source: string;
  status: "ok" | "skipped" | "crashed";
  durationMs: number;
  detail?: string;
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OUT_DIR = `${ROOT}bench-results`;

function isResults(v: unknown): v is BenchResult[] {
  return (
    Array.isArray(v) &&
    v.every(
      (r) =>
        typeof r === "object" &&
        r !== null &&
        typeof (r as BenchResult).name === "string" &&
        typeof (r as BenchResult).value === "number" &&
        typeof (r as BenchResult).unit === "string",
    )
  );
}

/** Load a module's runner and notes; null when the module is not there (yet). */
async function loadRunner(m: BenchModule): Promise<{ run: Runner; notes: string | undefined } | null> {
  const url = new URL(m.file, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return null;
  const mod = (await import(url.href)) as Record<string, unknown>;
  const fn = mod[m.exportName];
  if (typeof fn !== "function") throw new Error(`${m.file} does not export ${m.exportName}()`);
  const notes = m.notesExport === undefined ? undefined : mod[m.notesExport];
  return {
    run: async () => {
      const out: unknown = await fn();
      if (!isResults(out)) throw new Error(`${m.exportName}() did not return {name, value, unit}[]`);
      return out;
    },
    notes: typeof notes === "string" ? notes : undefined,
  };
}

/** Round for display: integers stay, small values keep up to two decimals. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) || Math.abs(v) >= 100) return String(Math.round(v));
  return String(Math.round(v * 100) / 100);
}

function textTable(rows: Row[]): string {
  const cells = [
    ["name", "value", "unit", "source"],
    ...rows.map((r) => [r.name, formatValue(r.value), r.unit, r.source]),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...cells.map((row) => (row[c] ?? "").length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 1 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join(" | ");
  return [
    line(cells[0] ?? []),
    widths.map((w) => "-".repeat(w)).join("-|-"),
    ...cells.slice(1).map(line),
  ].join("\n");
}

function markdown(rows: Row[], outcomes: Outcome[], notes: string[], generatedAt: string): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const lines = [
    `Produced by \`npm run bench\` on ${generatedAt} (Node ${process.version}, ${cpus().length} CPUs, ${process.platform}).`,
    "",
    "| name | value | unit | source |",
    "|---|---:|---|---|",
    ...rows.map((r) => `| ${esc(r.name)} | ${formatValue(r.value)} | ${esc(r.unit)} | ${r.source} |`),
  ];
  const other = outcomes.filter((o) => o.status !== "ok");
  if (other.length > 0) {
    lines.push("", ...other.map((o) => `- ${o.source}: ${o.status}${o.detail ? ` (${o.detail})` : ""}`));
  }
  for (const n of notes) lines.push("", ...n.split("\n").map((l) => `> ${l}`));
  return `${lines.join("\n")}\n`;
}

function parseOnly(argv: string[]): Set<string> | null {
  const i = argv.indexOf("--only");
  const value = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (value === undefined) return null;
  return new Set(value.split(",").map((s) => s.trim()));
}

async function main(): Promise<number> {
  const only = parseOnly(process.argv.slice(2));
  const started = performance.now();
  const rows: Row[] = [];
  const outcomes: Outcome[] = [];
  const notes: string[] = [];
  for (const m of MODULES) {
    if (only && !only.has(m.source)) continue;
    const t0 = performance.now();
    process.stderr.write(`bench: ${m.source}…\n`);
    try {
      const loaded = await loadRunner(m);
      if (!loaded) {
        outcomes.push({
          source: m.source,
          status: "skipped",
          durationMs: 0,
          detail: `${m.file} not present`,
        });
        process.stderr.write(`bench: ${m.source} skipped: ${m.file} not present\n`);
        continue;
      }
      const results = await loaded.run();
      rows.push(...results.map((r) => ({ ...r, source: m.source })));
      if (loaded.notes) notes.push(loaded.notes);
      outcomes.push({ source: m.source, status: "ok", durationMs: Math.round(performance.now() - t0) });
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      if (err instanceof Error && err.name === "BenchSkip") {
        outcomes.push({ source: m.source, status: "skipped", durationMs: 0, detail });
        process.stderr.write(`bench: ${m.source} skipped: ${detail}\n`);
        continue;
      }
      outcomes.push({
        source: m.source,
        status: "crashed",
        durationMs: Math.round(performance.now() - t0),
        detail,
      });
      process.stderr.write(
        `bench: ${m.source} crashed: ${err instanceof Error ? (err.stack ?? detail) : detail}\n`,
      );
    }
  }
  const generatedAt = new Date().toISOString();
  const totalMs = Math.round(performance.now() - started);
  process.stdout.write(`${textTable(rows)}\n\n`);
  for (const o of outcomes) {
    process.stdout.write(
      `${o.source}: ${o.status} in ${(o.durationMs / 1000).toFixed(1)} s${o.detail ? ` (${o.detail})` : ""}\n`,
    );
  }
  await mkdir(OUT_DIR, { recursive: true });
  const json = {
    generatedAt,
    command: "npm run bench",
    node: process.version,
    platform: process.platform,
    cpus: cpus().length,
    totalMs,
    modules: outcomes,
    results: rows,
  };
  await writeFile(`${OUT_DIR}/latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${OUT_DIR}/latest.md`, markdown(rows, outcomes, notes, generatedAt));
  process.stdout.write(
    `total ${(totalMs / 1000).toFixed(1)} s; wrote ${pathToFileURL(`${OUT_DIR}/latest.json`).pathname} and latest.md\n`,
  );
  return outcomes.some((o) => o.status === "crashed") ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
