/**
 * The operator dashboard under `/dashboard`: server-rendered Hono JSX behind a password login and a
 * signed session cookie; 403 when no DASHBOARD_PASSWORD is configured. Campaign rollups, the calls list,
 * one call's page and its recording (streamed from R2 with range support).
 *
 * Sign-in is limited per client address (a hash of it) through the same edge-state limiter the lead
 * endpoint uses. Sessions carry the sign-in epoch's version: signing out rotates the epoch (one for the
 * whole dashboard, since there is one shared password), so every cookie issued before stops working.
 * Every response carries a Content-Security-Policy that allows no script and only the hashed stylesheet.
 */
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env";
import { getFlow } from "../call/flows";
import type { AppConfig } from "../config/config";
import {
  checkSession,
  issueSession,
  passwordMatches,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  safeNext,
} from "../dashboard/auth";
import type { WaterfallTurn } from "../dashboard/charts";
import { layoutFlow } from "../dashboard/flow-layout";
import { DASHBOARD_CSS } from "../dashboard/layout";
import { CallPage, CallsPage, CampaignsPage, LoginPage, MessagePage } from "../dashboard/pages";
import {
  type CallFilters,
  campaignSummaries,
  decodeCursor,
  encodeCursor,
  filterChoices,
  listCalls,
  loadCall,
} from "../dashboard/queries";
import { cspHashSource, dashboardSecurityHeaders } from "../dashboard/security-headers";
import { flowToMermaid } from "../flow/diagram";
import { edgePortsFor } from "../lead/edge-ports";
import type { QaEvent } from "../qa/call-facts";
import { DEFAULT_QA_CONFIG } from "../qa/config";
import { rollupCampaigns } from "../qa/rollups";
import { loadEvents } from "../qa/scorecard-store";
import { assembleTranscript, transcriptToVtt } from "../qa/transcript";
import { neonConnect } from "../store/neon";
import type { SqlSession } from "../store/sql-client";
import { clientAddressKey } from "./client-address";
import { requireConfigured } from "./require-config";

const CALL_SID = /^[A-Za-z0-9_-]{1,64}$/;
const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

/** R2 key of a call's recording. */
export function recordingKey(callSid: string): string {
  return `recordings/${callSid}.wav`;
}

type Ctx = Context<AppEnv>;

const NO_STORE = { "cache-control": "no-store" };

/** Wrong passwords allowed per client address per window; the next attempt is a 429. */
export const LOGIN_MAX_FAILURES = 5;
/** The login window: 15 minutes. */
export const LOGIN_WINDOW_SECONDS = 900;
/** The one sign-in epoch (one shared password, so one session space). */
const SESSION_EPOCH = "dashboard";

let styleSource: string | undefined;

/** Security headers on every dashboard response, whatever answered (page, redirect, 401, 503). */
async function securityHeaders(c: Ctx, next: () => Promise<void>): Promise<void> {
  // A plain string cached per isolate (never a promise shared across requests).
  styleSource ??= await cspHashSource(DASHBOARD_CSS);
  await next();
  for (const [k, v] of Object.entries(dashboardSecurityHeaders(styleSource))) c.res.headers.set(k, v);
}

async function withDb<T>(config: AppConfig, fn: (s: SqlSession) => Promise<T>): Promise<T | null> {
  const db = config.database;
  if (!db) return null;
  const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
  try {
    return await fn(session);
  } finally {
    await release();
  }
}

const noDatabase = (c: Ctx) =>
  c.html(
    <MessagePage
      title="No database"
      message="DATABASE_URL is not set: calls stay in each call's outbox until one is configured."
    />,
    503,
    NO_STORE,
  );

function intParam(v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || !/^\d{1,6}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
}

function dateParam(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return undefined;
  const ms = Date.parse(`${v}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

function nameParam(v: string | undefined): string | undefined {
  return v !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(v) ? v : undefined;
}

function callFilters(c: Ctx): CallFilters {
  const q = (k: string) => c.req.query(k) || undefined;
  const f: CallFilters = {};
  const campaign = nameParam(q("campaign"));
  const outcome = nameParam(q("outcome"));
  const minScore = intParam(q("minScore"), 0, 100);
  const maxScore = intParam(q("maxScore"), 0, 100);
  const fromMs = dateParam(q("from"));
  const toMs = dateParam(q("to"));
  if (campaign !== undefined) f.campaign = campaign;
  if (outcome !== undefined) f.outcome = outcome;
  if (minScore !== undefined) f.minScore = minScore;
  if (maxScore !== undefined) f.maxScore = maxScore;
  if (fromMs !== undefined) f.fromMs = fromMs;
  if (toMs !== undefined) f.toMs = toMs + DAY_MS;
  return f;
}

function filterQuery(c: Ctx): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of ["campaign", "outcome", "minScore", "maxScore", "from", "to"]) {
    const v = c.req.query(k);
    if (v) out.set(k, v);
  }
  return out;
}

function waterfallTurns(events: readonly QaEvent[]): WaterfallTurn[] {
  const out: WaterfallTurn[] = [];
  for (const e of events) {
    if (e.type !== "turn.latency") continue;
    const seg = (e.payload.segments ?? {}) as Record<string, unknown>;
    const segments = ["endpointing", "decision", "audio", "send"].flatMap((name) => {
      const ms = seg[name];
      return typeof ms === "number" && ms >= 0 ? [{ name, ms: Math.round(ms) }] : [];
    });
    const total =
      typeof e.payload.totalMs === "number" ? e.payload.totalMs : segments.reduce((s, x) => s + x.ms, 0);
    out.push({
      turn: Number(e.payload.turn ?? out.length + 1),
      kind: String(e.payload.path ?? ""),
      totalMs: total,
      segments,
    });
  }
  return out;
}

/** Parse a single `bytes=a-b` range against `size`; undefined for none or unsupported forms. */
export function parseRange(
  header: string | undefined,
  size: number,
): { offset: number; length: number } | "invalid" | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "invalid";
  if (a === "") {
    const n = Math.min(Number(b), size);
    return n === 0 ? "invalid" : { offset: size - n, length: n };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return "invalid";
  return { offset: start, length: end - start + 1 };
}

export const dashboardRoutes = new Hono<AppEnv>();

// A password too short to trust refuses the dashboard (503) rather than opening it.
dashboardRoutes.use("/dashboard", securityHeaders, requireConfigured("dashboard"), guard);
dashboardRoutes.use("/dashboard/*", securityHeaders, requireConfigured("dashboard"), guard);

async function guard(c: Ctx, next: () => Promise<void>): Promise<Response | undefined> {
  const password = c.get("config").dashboardPassword;
  if (password === undefined) {
    return c.html(
      <MessagePage title="Dashboard disabled" message="Set DASHBOARD_PASSWORD to open the dashboard." />,
      403,
      NO_STORE,
    );
  }
  const path = c.req.path;
  if (path === "/dashboard/login") {
    await next();
    return undefined;
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie !== undefined) {
    const epoch = await edgePortsFor(c.get("config"), c.env).sessions.current(SESSION_EPOCH);
    const verdict = await checkSession(password, epoch, cookie, Date.now());
    if (verdict === "ok") {
      await next();
      return undefined;
    }
    c.get("log").info("dashboard session refused", { reason: verdict });
  }
  if (c.req.method === "GET" && !path.endsWith("/recording") && !path.endsWith(".vtt")) {
    const url = new URL(c.req.url);
    return c.redirect(`/dashboard/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  }
  return c.text("Sign in first", 401, NO_STORE);
}

dashboardRoutes.get("/dashboard/login", (c) =>
  c.html(
    <LoginPage next={safeNext(c.req.query("next"))} failed={c.req.query("failed") === "1"} />,
    200,
    NO_STORE,
  ),
);

dashboardRoutes.post("/dashboard/login", async (c) => {
  const config = c.get("config");
  const password = config.dashboardPassword ?? "";
  const ports = edgePortsFor(config, c.env);
  // Every attempt counts before the password is even read, so parallel guesses cannot slip past the
  // limit; a successful sign-in clears the count, so in effect only failures accumulate.
  const key = await clientAddressKey("dash-login", c.req);
  const limit = await ports.limiter.limit(key, LOGIN_MAX_FAILURES, LOGIN_WINDOW_SECONDS);
  if (!limit.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil((limit.resetMs - Date.now()) / 1000));
    c.get("log").warn("dashboard login rate limited", { client: key.slice(-8), retryAfterSeconds });
    return c.html(
      <MessagePage
        title="Too many attempts"
        message={`Too many sign-in attempts from this address. Try again in ${Math.ceil(retryAfterSeconds / 60)} min.`}
      />,
      429,
      { ...NO_STORE, "retry-after": String(retryAfterSeconds) },
    );
  }
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const submitted = typeof body.password === "string" ? body.password : "";
  const next = safeNext(typeof body.next === "string" ? body.next : undefined);
  if (!(await passwordMatches(submitted, password))) {
    c.get("log").warn("dashboard login refused", { client: key.slice(-8), remaining: limit.remaining });
    return c.redirect(`/dashboard/login?failed=1&next=${encodeURIComponent(next)}`, 303);
  }
  await ports.limiter.reset(key, LOGIN_WINDOW_SECONDS);
  const epoch = await ports.sessions.current(SESSION_EPOCH);
  setCookie(c, SESSION_COOKIE, await issueSession(password, epoch, Date.now()), {
    path: "/dashboard",
    httpOnly: true,
    sameSite: "Strict",
    // Always: production is HTTPS, and browsers accept Secure cookies from http://localhost in development.
    secure: true,
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
  return c.redirect(next, 303);
});

// Only a signed-in operator gets here (the guard), so a stranger cannot sign everyone out.
dashboardRoutes.post("/dashboard/logout", async (c) => {
  const epoch = await edgePortsFor(c.get("config"), c.env).sessions.rotate(SESSION_EPOCH);
  c.get("log").info("dashboard signed out; earlier sessions revoked", { sessionVersion: epoch.version });
  deleteCookie(c, SESSION_COOKIE, { path: "/dashboard", secure: true, httpOnly: true, sameSite: "Strict" });
  return c.redirect("/dashboard/login", 303);
});

dashboardRoutes.get("/dashboard", async (c) => {
  const config = c.get("config");
  const days = intParam(c.req.query("days"), 1, 366) ?? 30;
  const nowMs = Date.now();
  const result = await withDb(config, (s) =>
    campaignSummaries(s, nowMs - days * DAY_MS, DEFAULT_QA_CONFIG, nowMs),
  );
  if (result === null) return noDatabase(c);
  return c.html(
    <CampaignsPage rollups={rollupCampaigns(result.summaries)} days={days} unscored={result.unscored} />,
    200,
    NO_STORE,
  );
});

dashboardRoutes.get("/dashboard/calls", async (c) => {
  const config = c.get("config");
  const filters = callFilters(c);
  const after = decodeCursor(c.req.query("after"));
  const result = await withDb(config, async (s) => ({
    page: await listCalls(s, filters, after, PAGE_SIZE, DEFAULT_QA_CONFIG, Date.now()),
    choices: await filterChoices(s),
  }));
  if (result === null) return noDatabase(c);
  let nextHref: string | undefined;
  if (result.page.next) {
    const q = filterQuery(c);
    q.set("after", encodeCursor(result.page.next));
    nextHref = `/dashboard/calls?${q.toString()}`;
  }
  return c.html(
    <CallsPage rows={result.page.rows} filters={filters} nextHref={nextHref} choices={result.choices} />,
    200,
    NO_STORE,
  );
});

dashboardRoutes.get("/dashboard/calls/:sid", async (c) => {
  const sid = c.req.param("sid");
  if (!CALL_SID.test(sid))
    return c.html(<MessagePage title="Not found" message="No such call." />, 404, NO_STORE);
  const config = c.get("config");
  const detail = await withDb(config, (s) => loadCall(s, sid, DEFAULT_QA_CONFIG, Date.now()));
  if (detail === null) return noDatabase(c);
  if (detail.events.length === 0 && detail.row === undefined)
    return c.html(<MessagePage title="Not found" message="No such call." />, 404, NO_STORE);
  const flowId = detail.events.find((e) => e.type === "call.started")?.payload.flowId ?? detail.row?.flowId;
  const flow = typeof flowId === "string" ? getFlow(flowId) : undefined;
  const transcript = assembleTranscript(detail.events, flow);
  const path = transcript.flatMap((e) => (e.kind === "state" ? [e.to] : []));
  const media = c.env.MEDIA as R2Bucket | undefined;
  const hasRecording = media ? (await media.head(recordingKey(sid))) !== null : false;
  return c.html(
    <CallPage
      callSid={sid}
      row={detail.row}
      card={detail.scored?.card}
      transcript={transcript}
      layout={flow ? layoutFlow(flow, path) : undefined}
      mermaid={flow ? flowToMermaid(flow, path) : undefined}
      turns={waterfallTurns(detail.events)}
      budgetMs={DEFAULT_QA_CONFIG.latency.p95BudgetMs}
      events={detail.events}
      hasRecording={hasRecording}
    />,
    200,
    NO_STORE,
  );
});

dashboardRoutes.get("/dashboard/calls/:sid/captions.vtt", async (c) => {
  const sid = c.req.param("sid");
  if (!CALL_SID.test(sid)) return c.text("No such call", 404, NO_STORE);
  const events = await withDb(c.get("config"), async (s) => (await loadEvents(s, [sid])).get(sid) ?? []);
  if (events === null) return noDatabase(c);
  const flowId = events.find((e) => e.type === "call.started")?.payload.flowId;
  const flow = typeof flowId === "string" ? getFlow(flowId) : undefined;
  return c.body(transcriptToVtt(assembleTranscript(events, flow)), 200, {
    ...NO_STORE,
    "content-type": "text/vtt; charset=utf-8",
  });
});

dashboardRoutes.get("/dashboard/calls/:sid/recording", async (c) => {
  const sid = c.req.param("sid");
  const media = c.env.MEDIA as R2Bucket | undefined;
  if (!CALL_SID.test(sid) || !media) return c.text("No recording", 404, NO_STORE);
  const head = await media.head(recordingKey(sid));
  if (head === null) return c.text("No recording", 404, NO_STORE);
  const range = parseRange(c.req.header("range"), head.size);
  if (range === "invalid") return c.body(null, 416, { "content-range": `bytes */${head.size}` });
  const object = await media.get(recordingKey(sid), range ? { range } : {});
  if (object === null) return c.text("No recording", 404, NO_STORE);
  const headers: Record<string, string> = {
    ...NO_STORE,
    "content-type": head.httpMetadata?.contentType ?? "audio/wav",
    "accept-ranges": "bytes",
  };
  if (range) {
    headers["content-range"] = `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`;
    headers["content-length"] = String(range.length);
    return c.body(object.body, 206, headers);
  }
  headers["content-length"] = String(head.size);
  return c.body(object.body, 200, headers);
});
