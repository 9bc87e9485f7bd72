/**
 * Dashboard hardening in workerd: the per-address login limit, sessions revoked by sign-out and by a
 * password change, the cookie's attributes, and the security headers (CSP first) on every page.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/index";
import { neonConnect } from "../../src/store/neon";
import { seedPair, uniqueId } from "./seed";

const PASSWORD = "revocable sessions password 1";
const BASE = "https://dash.test";
const bindings = (password = PASSWORD) => ({ ...env, DASHBOARD_PASSWORD: password }) as unknown as Env;

let lastIp = 0;
/** A fresh client address per test, so one test's login failures never limit another's. */
const freshIp = () => `198.51.100.${++lastIp}`;

async function login(opts: { password?: string; as?: string; ip?: string } = {}): Promise<Response> {
  const password = opts.as ?? PASSWORD;
  return app.request(
    `${BASE}/dashboard/login`,
    {
      method: "POST",
      headers: { "cf-connecting-ip": opts.ip ?? freshIp() },
      body: new URLSearchParams({ password, next: "/dashboard/calls" }),
      redirect: "manual",
    },
    bindings(opts.password),
  );
}

/** The `name=value` part of the session cookie a response set. */
function sessionCookie(res: Response): string {
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  expect(cookie).toMatch(/^dash_session=\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
  return cookie;
}

const get = (path: string, cookie: string, password = PASSWORD) =>
  app.request(`${BASE}${path}`, { headers: { cookie }, redirect: "manual" }, bindings(password));

const signOut = (cookie: string) =>
  app.request(
    `${BASE}/dashboard/logout`,
    { method: "POST", headers: { cookie }, redirect: "manual" },
    bindings(),
  );

describe("dashboard login rate limit", () => {
  it("answers the 6th wrong password from one address with 429 and Retry-After", async () => {
    const ip = freshIp();
    for (let i = 1; i <= 5; i++) {
      const res = await login({ as: `wrong password number ${i}`, ip });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toContain("failed=1");
    }
    const sixth = await login({ as: "wrong password number 6", ip });
    expect(sixth.status).toBe(429);
    const retryAfter = Number(sixth.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(sixth.headers.get("set-cookie")).toBeNull();
    expect(sixth.headers.get("content-security-policy")).toContain("default-src 'self'");

    // Blocked means blocked: the right password is not even checked until the window ends.
    const right = await login({ ip });
    expect(right.status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();
    // Another address is unaffected.
    expect((await login()).status).toBe(303);
  });

  it("counts only failures: a successful sign-in starts the count again", async () => {
    const ip = freshIp();
    for (let i = 0; i < 4; i++) expect((await login({ as: "not it at all", ip })).status).toBe(303);
    const ok = await login({ ip });
    expect(ok.headers.get("location")).toBe("/dashboard/calls");
    for (let i = 0; i < 5; i++) {
      expect((await login({ as: "not it at all", ip })).headers.get("location")).toContain("failed=1");
    }
    expect((await login({ as: "not it at all", ip })).status).toBe(429);
  });
});

describe("dashboard sessions", () => {
  it("sets an HttpOnly, Secure, SameSite=Strict cookie scoped to /dashboard", async () => {
    const set = (await login()).headers.get("set-cookie") ?? "";
    expect(set).toMatch(/;\s*HttpOnly/i);
    expect(set).toMatch(/;\s*Secure/i);
    expect(set).toMatch(/;\s*SameSite=Strict/i);
    expect(set).toContain("Path=/dashboard");
  });

  it("refuses every cookie issued before a sign-out, and a new sign-in works", async () => {
    const first = sessionCookie(await login());
    const second = sessionCookie(await login()); // another operator's browser
    expect((await get("/dashboard/login", first)).status).toBe(200);
    expect((await get("/dashboard/calls/CAnone/captions.vtt", first)).status).not.toBe(401);

    const out = await signOut(first);
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/dashboard/login");
    expect(out.headers.get("set-cookie")).toMatch(/dash_session=;/);

    for (const old of [first, second]) {
      const page = await get("/dashboard/calls", old);
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toContain("/dashboard/login?next=");
      expect((await get("/dashboard/calls/CAnone/captions.vtt", old)).status).toBe(401);
    }
    const fresh = sessionCookie(await login());
    expect((await get("/dashboard/calls/CAnone/captions.vtt", fresh)).status).not.toBe(401);
  });

  it("lets no one sign everyone out without a session", async () => {
    const mine = sessionCookie(await login());
    const res = await app.request(
      `${BASE}/dashboard/logout`,
      { method: "POST", redirect: "manual" },
      bindings(),
    );
    expect(res.status).toBe(401);
    expect((await get("/dashboard/calls/CAnone/captions.vtt", mine)).status).not.toBe(401);
  });

  it("refuses a cookie minted under the previous password once the password changes", async () => {
    const before = sessionCookie(await login());
    expect((await get("/dashboard/calls/CAnone/captions.vtt", before)).status).not.toBe(401);
    const changed = "an entirely new password 2";
    const res = await get("/dashboard/calls", before, changed);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("/dashboard/login");
    expect((await get("/dashboard/calls/CAnone/captions.vtt", before, changed)).status).toBe(401);
    // The new password signs in as usual.
    const after = sessionCookie(await login({ password: changed, as: changed }));
    expect((await get("/dashboard/calls/CAnone/captions.vtt", after, changed)).status).not.toBe(401);
  });
});

describe("dashboard security headers", () => {
  let cookie = "";
  let sids: { good: string; bad: string };

  beforeAll(async () => {
    const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };
    const { session, release } = await neonConnect({
      databaseUrl: e.DATABASE_URL,
      wsProxyUrl: e.NEON_WS_PROXY,
    })();
    try {
      sids = await seedPair(session, uniqueId("csp"));
    } finally {
      await release();
    }
    cookie = sessionCookie(await login());
  });

  async function styleHash(html: string): Promise<string> {
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    expect(css.length).toBeGreaterThan(100);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(css)));
    return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
  }

  it("sends a CSP with no script, the stylesheet by hash and no framing on every dashboard page", async () => {
    const pages: [string, () => Response | Promise<Response>, number][] = [
      ["login form", () => get("/dashboard/login", ""), 200],
      ["campaigns", () => get("/dashboard?days=366", cookie), 200],
      ["calls", () => get("/dashboard/calls", cookie), 200],
      ["one call", () => get(`/dashboard/calls/${sids.bad}`, cookie), 200],
      ["unknown call", () => get("/dashboard/calls/CAnosuchcall", cookie), 404],
      ["redirect to login", () => get("/dashboard/calls", ""), 303],
      ["disabled", () => app.request(`${BASE}/dashboard`, {}, env), 403],
    ];
    for (const [label, request, status] of pages) {
      const res = await request();
      expect(res.status, label).toBe(status);
      const csp = res.headers.get("content-security-policy") ?? "";
      const directives = new Map(
        csp.split(";").map((d) => {
          const [name = "", ...values] = d.trim().split(/\s+/);
          return [name, values.join(" ")] as const;
        }),
      );
      expect(directives.get("default-src"), label).toBe("'self'");
      expect(directives.get("script-src"), label).toBe("'none'");
      expect(directives.get("frame-ancestors"), label).toBe("'none'");
      expect(directives.get("object-src"), label).toBe("'none'");
      expect(directives.get("base-uri"), label).toBe("'none'");
      expect(csp, label).not.toContain("unsafe-inline");
      expect(res.headers.get("x-content-type-options"), label).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), label).toBe("no-referrer");
      expect(res.headers.get("x-frame-options"), label).toBe("DENY");
      if (status === 303) continue;
      const html = await res.text();
      // The page's one stylesheet is the hashed one; nothing inline would be blocked.
      expect(directives.get("style-src"), label).toBe(await styleHash(html));
      expect(html, label).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    }
  });

  it("puts the headers on the recording and captions too", async () => {
    for (const path of [
      `/dashboard/calls/${sids.bad}/recording`,
      `/dashboard/calls/${sids.bad}/captions.vtt`,
    ]) {
      const res = await get(path, cookie);
      expect(res.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});
