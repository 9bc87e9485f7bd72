/**
 * `npm run dev`: the whole product on this machine with no accounts or keys. Starts embedded
 * Postgres (PGlite behind the Neon WebSocket path) with migrations applied, the emulators of every
 * outside service, then `wrangler dev` pointed at them, and prints what runs where. A key in
 * `.dev.vars` switches that one service to the real thing. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { migrate } from "../../store/migrate";
import { loadMigrations } from "../../store/migration-files";
import { neonConnect } from "../../store/neon";
import { startEmulatorStack } from "../emulators/stack";
import { startEmbeddedPostgres } from "./postgres";

const PORT = Number(process.env.PORT ?? 8787);
const HOST = "127.0.0.1";
/** Written once the stack is up: URLs of the Worker and the emulators, for local tools. */
export const STACK_FILE = ".data/dev-stack.json";

/** Which service each credential switches to the real provider, and the base URL variable it keeps. */
const REAL_SWITCHES: Record<string, string[]> = {
  TWILIO_AUTH_TOKEN: ["TWILIO_API_BASE_URL"],
  DEEPGRAM_API_KEY: ["DEEPGRAM_BASE_URL"],
  ELEVENLABS_API_KEY: ["ELEVENLABS_BASE_URL"],
  OPENAI_API_KEY: ["OPENAI_BASE_URL"],
  CALCOM_API_KEY: ["CALCOM_BASE_URL"],
  HUBSPOT_ACCESS_TOKEN: ["HUBSPOT_BASE_URL"],
  SLACK_BOT_TOKEN: ["SLACK_BASE_URL"],
  SLACK_WEBHOOK_URL: ["SLACK_BASE_URL"],
  DATABASE_URL: ["DATABASE_URL", "NEON_WS_PROXY"],
};

/** Variables set in `.dev.vars` (KEY=VALUE lines; blanks and comments ignored). */
function devVars(): Record<string, string> {
  if (!existsSync(".dev.vars")) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1] && m[2] !== undefined && m[2] !== "") out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

function row(what: string, where: string): string {
  return `  ${what.padEnd(26)} ${where}`;
}

async function waitForHealth(
  url: string,
  adminToken: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}`);
    try {
      // The adapter table is shown only to the admin token.
      const res = await fetch(url, { headers: { authorization: `Bearer ${adminToken}` } });
      if (res.ok) return await res.json();
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const userVars = devVars();
  const real = new Set(Object.keys(REAL_SWITCHES).filter((k) => userVars[k]));
  const keep = new Set([...real].flatMap((k) => REAL_SWITCHES[k] ?? []));
  const closers: (() => Promise<void>)[] = [];
  const lines: string[] = [];

  let databaseUrl = userVars.DATABASE_URL;
  let wsProxy = userVars.NEON_WS_PROXY;
  if (!real.has("DATABASE_URL")) {
    mkdirSync(".data", { recursive: true });
    const pg = await startEmbeddedPostgres({ dataDir: ".data/pglite" });
    closers.push(() => pg.close());
    const { session, release } = await neonConnect({
      databaseUrl: pg.databaseUrl,
      wsProxyUrl: pg.wsProxyUrl,
    })();
    try {
      const result = await migrate(session, await loadMigrations());
      lines.push(
        row("migrations", `${result.applied.length} applied, ${result.alreadyApplied.length} already there`),
      );
    } finally {
      await release();
    }
    databaseUrl = pg.databaseUrl;
    wsProxy = pg.wsProxyUrl;
    lines.push(
      row("Postgres (PGlite, embedded)", `${pg.databaseUrl} via Neon WebSocket proxy ${pg.wsProxyUrl}`),
    );
  } else {
    lines.push(row("Postgres", "real (DATABASE_URL from .dev.vars)"));
  }

  const stack = await startEmulatorStack({ host: HOST });
  closers.push(() => stack.close());
  for (const [name, url] of Object.entries(stack.urls)) {
    const switchedBy = Object.entries(REAL_SWITCHES).find(
      ([k, v]) => real.has(k) && v.some((x) => x.startsWith(name.toUpperCase())),
    );
    lines.push(row(`${name} emulator`, switchedBy ? `not used (${switchedBy[0]} set: real service)` : url));
  }

  const adminToken = userVars.ADMIN_TOKEN ?? randomBytes(18).toString("base64url");
  // The dashboard is closed without a password: generate one per run unless .dev.vars sets it.
  const dashboardPassword = userVars.DASHBOARD_PASSWORD ?? randomBytes(18).toString("base64url");
  const vars: Record<string, string> = {
    ...Object.fromEntries(Object.entries(stack.env).filter(([k]) => !keep.has(k))),
    ...(databaseUrl && !keep.has("DATABASE_URL") ? { DATABASE_URL: databaseUrl } : {}),
    ...(wsProxy && !keep.has("NEON_WS_PROXY") ? { NEON_WS_PROXY: wsProxy } : {}),
    PUBLIC_BASE_URL: `http://${HOST}:${PORT}`,
    ADMIN_TOKEN: adminToken,
    DASHBOARD_PASSWORD: dashboardPassword,
  };
  const args = [
    "dev",
    "--ip",
    HOST,
    "--port",
    String(PORT),
    "--show-interactive-dev-session=false",
    "--persist-to",
    ".data/wrangler",
  ];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const wrangler = spawn("wrangler", args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      // Wrangler's local trace collector (on by default) writes every Worker invocation to SQLite with
      // an fsync; a call is 50 WebSocket messages a second each way, which tripled the Worker's CPU per
      // call. Off unless the developer asks for it (`X_LOCAL_OBSERVABILITY=true npm run dev`).
      X_LOCAL_OBSERVABILITY: "false",
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
    },
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => `[worker] ${l}`)
      .join("\n");
  wrangler.stdout?.on("data", (c: Buffer) => console.log(prefix(c)));
  wrangler.stderr?.on("data", (c: Buffer) => console.error(prefix(c)));

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping…");
    if (wrangler.exitCode === null) {
      wrangler.kill("SIGTERM");
      await new Promise((r) => {
        const t = setTimeout(() => {
          wrangler.kill("SIGKILL");
          r(null);
        }, 5_000);
        wrangler.once("exit", () => {
          clearTimeout(t);
          r(null);
        });
      });
    }
    for (const close of closers.reverse()) await close().catch(() => undefined);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  wrangler.on("exit", (code) => {
    if (!stopping) {
      console.error(`wrangler dev exited (${code ?? "signal"})`);
      void stop(code ?? 1);
    }
  });

  const health = await waitForHealth(`http://${HOST}:${PORT}/healthz`, adminToken, wrangler, 90_000);
  // Where things run, for tools such as the call simulator (removed again on exit).
  writeFileSync(
    STACK_FILE,
    `${JSON.stringify({ workerUrl: `http://${HOST}:${PORT}`, emulators: stack.urls, adminToken, databaseUrl, wsProxy }, null, 2)}\n`,
  );
  closers.unshift(async () => rmSync(STACK_FILE, { force: true }));
  console.log(
    [
      "",
      "Voice agent platform running locally (no accounts, no keys):",
      row("Worker (wrangler dev)", `http://${HOST}:${PORT}`),
      row(
        "health",
        `http://${HOST}:${PORT}/healthz -> ${JSON.stringify((health as { adapters?: unknown }).adapters)}`,
      ),
      row("Twilio voice webhook", `http://${HOST}:${PORT}/twilio/voice`),
      row("admin token (tts:cache)", adminToken),
      row("dashboard", `http://${HOST}:${PORT}/dashboard (password: ${dashboardPassword})`),
      ...lines,
      "",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  console.error(`npm run dev failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
