import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { insertEventBatch } from "../../src/store/event-store";
import { neonConnect } from "../../src/store/neon";
import type { SqlSession } from "../../src/store/sql-client";
import { bookedCall, deafCall, IN_WINDOW_MS } from "../qa/call-builder";
import { query } from "../support/audit";
import { seedMany, seedPair, tinyWav, uniqueId } from "./seed";

const PASSWORD = "correct horse battery staple";
const open = { ...env, DASHBOARD_PASSWORD: PASSWORD } as unknown as Env;
const BASE = "http://dash.test";

async function withSession<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
  const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };
  const { session, release } = await neonConnect({
    databaseUrl: e.DATABASE_URL,
    wsProxyUrl: e.NEON_WS_PROXY,
  })();
  try {
    return await fn(session);
  } finally {
    await release();
  }
}

async function login(password = PASSWORD): Promise<Response> {
  return app.request(
    `${BASE}/dashboard/login`,
    { method: "POST", body: new URLSearchParams({ password, next: "/dashboard/calls" }), redirect: "manual" },
    open,
  );
}

let cookie = "";
const get = (path: string, headers: Record<string, string> = {}) =>
  app.request(`${BASE}${path}`, { headers: { cookie, ...headers }, redirect: "manual" }, open);

const campaign = uniqueId("camp");
let sids: { good: string; bad: string };

beforeAll(async () => {
  sids = await withSession((s) => seedPair(s, campaign));
  const res = await login();
  cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
});

describe("dashboard access", () => {
  it("is closed (403) when no DASHBOARD_PASSWORD is configured", async () => {
    const res = await app.request(`${BASE}/dashboard`, {}, env);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Set DASHBOARD_PASSWORD");
  });

  it("sends a visitor without a session to the login form, and refuses the recording", async () => {
    const res = await app.request(`${BASE}/dashboard/calls?campaign=x`, { redirect: "manual" }, open);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(
      `/dashboard/login?next=${encodeURIComponent("/dashboard/calls?campaign=x")}`,
    );
    const rec = await app.request(`${BASE}/dashboard/calls/${sids.bad}/recording`, {}, open);
    expect(rec.status).toBe(401);
    const form = await app.request(`${BASE}/dashboard/login`, {}, open);
    expect(await form.text()).toContain('<label for="password">');
  });

  it("refuses a wrong password without a session cookie", async () => {
    const res = await login("not the password at all");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("failed=1");
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("signs in with the password: an HttpOnly, SameSite=Strict cookie scoped to /dashboard", async () => {
    const res = await login();
    expect(res.headers.get("location")).toBe("/dashboard/calls");
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Strict/i);
    expect(set).toContain("Path=/dashboard");
  });

  it("rejects a tampered session cookie", async () => {
    const [name, value = ""] = cookie.split("=");
    const tampered = `${name}=${String(Number(value.split(".")[0]) + 1)}.${value.split(".")[1] ?? ""}`;
    const res = await app.request(
      `${BASE}/dashboard/calls`,
      { headers: { cookie: tampered }, redirect: "manual" },
      open,
    );
    expect(res.status).toBe(303);
  });
});

describe("dashboard pages", () => {
  it("lists the campaign's calls, worst first in the rollup, and stores their scorecards lazily", async () => {
    const list = await get(`/dashboard/calls?campaign=${campaign}`);
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(sids.good);
    expect(html).toContain(sids.bad);
    const stored = await query<{ call_sid: string; score: number }>(
      "SELECT call_sid, score FROM call_scorecards WHERE call_sid = ANY($1::text[]) ORDER BY score",
      [[sids.good, sids.bad]],
    );
    expect(stored.map((r) => r.call_sid)).toEqual([sids.bad, sids.good]);
    expect(stored[1]?.score).toBe(100);
    const campaigns = await (await get("/dashboard?days=366")).text();
    expect(campaigns).toContain(campaign);
    expect(campaigns).toContain("booking rate");
  });

  it("lists a campaign's dead calls first among its worst calls, with the unanswered turn as the reason", async () => {
    const dead = uniqueId("dead");
    const deaf = uniqueId("CA");
    const pair = await withSession(async (s) => {
      const seeded = await seedPair(s, dead);
      await insertEventBatch(s, deafCall(deaf, IN_WINDOW_MS + 120_000, dead).events);
      return seeded;
    });
    const stored = await query<{ call_sid: string; score: number; unanswered_turns: number }>(
      "SELECT call_sid, score, unanswered_turns FROM call_scorecards WHERE call_sid = $1",
      [deaf],
    );
    expect(stored).toEqual([]); // scored lazily by the page view below
    const html = await (await get("/dashboard?days=366")).text();
    const section = html.slice(html.indexOf(dead), html.indexOf("</section>", html.indexOf(dead)));
    const worst = section.slice(section.indexOf("Worst calls"));
    const order = [deaf, pair.bad, pair.good].map((sid) => worst.indexOf(`/dashboard/calls/${sid}"`));
    expect(order.every((i) => i > 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(worst).toContain("1 caller turn unanswered, first at 0:04.6");
    const after = await query<{ score: number; unanswered_turns: number; first_unanswered_ms: number }>(
      "SELECT score, unanswered_turns, first_unanswered_ms FROM call_scorecards WHERE call_sid = $1",
      [deaf],
    );
    expect(after).toEqual([{ score: 50, unanswered_turns: 1, first_unanswered_ms: 4_600 }]);
  });

  it("rescores a call scored while it was in progress once more of its events arrive", async () => {
    const live = uniqueId("live");
    const sid = uniqueId("CA");
    const events = bookedCall(sid, undefined, live).events;
    const half = events.findIndex((e) => e.type === "action.result");
    await withSession((s) => insertEventBatch(s, events.slice(0, half)));
    expect(await (await get(`/dashboard/calls?campaign=${live}`)).text()).toContain("booking_failed");
    await withSession((s) => insertEventBatch(s, events.slice(half)));
    const after = await (await get(`/dashboard/calls?campaign=${live}`)).text();
    expect(after).toContain("<td>booked</td>");
  });

  it("filters by outcome and score", async () => {
    const booked = await (await get(`/dashboard/calls?campaign=${campaign}&outcome=booked`)).text();
    expect(booked).toContain(sids.good);
    expect(booked).not.toContain(sids.bad);
    const low = await (await get(`/dashboard/calls?campaign=${campaign}&maxScore=70`)).text();
    expect(low).toContain(sids.bad);
    expect(low).not.toContain(sids.good);
  });

  it("renders one call: transcript with the cut line, flow path, waterfall, scorecard evidence and events", async () => {
    const res = await get(`/dashboard/calls/${sids.bad}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Please stop calling me");
    expect(html).toContain("(cut by barge-in)");
    expect(html).toContain('class="chart flow"');
    expect(html).toContain('class="chart waterfall"');
    expect(html).toContain("pitch (book) after the opt-out request");
    expect(html).toContain('id="ev-1"');
    expect(html).toContain("No recording stored");
  });

  it("serves the recording from R2 (whole and by range) and plays it in the page", async () => {
    const wav = tinyWav();
    await env.MEDIA.put(`recordings/${sids.good}.wav`, wav, { httpMetadata: { contentType: "audio/wav" } });
    const page = await (await get(`/dashboard/calls/${sids.good}`)).text();
    expect(page).toContain(`<audio id="recording" controls`);
    expect(page).toContain(`src="/dashboard/calls/${sids.good}/recording"`);
    const whole = await get(`/dashboard/calls/${sids.good}/recording`);
    expect(whole.status).toBe(200);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(wav);
    const part = await get(`/dashboard/calls/${sids.good}/recording`, { range: "bytes=0-43" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-43/${wav.length}`);
    expect(new TextDecoder().decode(new Uint8Array(await part.arrayBuffer()).slice(0, 4))).toBe("RIFF");
    expect((await get(`/dashboard/calls/${sids.bad}/recording`)).status).toBe(404);
    const vtt = await get(`/dashboard/calls/${sids.good}/captions.vtt`);
    expect(await vtt.text()).toMatch(/^WEBVTT\n\n00:00:0\d\.\d{3} --> /);
  });

  it("pages a large campaign with a keyset cursor: no row twice, none missed", async () => {
    const big = uniqueId("bulk");
    const all = await withSession((s) => seedMany(s, big, 60));
    const first = await (await get(`/dashboard/calls?campaign=${big}`)).text();
    const next = /href="([^"]+)" rel="next"/.exec(first)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toBeDefined();
    const second = await (await get(next ?? "")).text();
    expect(second).not.toContain('rel="next"');
    const seen = (html: string) =>
      [...html.matchAll(/href="\/dashboard\/calls\/([^"/]+)"/g)].map((m) => m[1]);
    const rows = [...seen(first), ...seen(second)];
    expect(rows).toHaveLength(60);
    expect(new Set(rows)).toEqual(new Set(all));
  });
});
