/**
 * The dashboard in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): the Hono app served
 * from Node over embedded Postgres seeded with calls. Fails (never skips) when Chromium is missing.
 */
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { standaloneDashboardApp } from "../../src/dashboard/standalone";
import { type PgFixture, startMigratedPostgres } from "../store/pg-fixture";
import { MemoryR2, serveFetch } from "./node-server";
import { seedPair, tinyWav, uniqueId } from "./seed";

const CHROMIUM = "/usr/bin/chromium";
const RESULTS = new URL("../results/dashboard/", import.meta.url).pathname;
const PASSWORD = "browser-test-password-42";

let fx: PgFixture;
let server: { url: string; close(): Promise<void> };
let browser: Browser;
let sids: { good: string; bad: string };
const campaign = uniqueId("browser");

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is required at ${CHROMIUM} (Debian: apt-get install -y chromium)`);
  mkdirSync(RESULTS, { recursive: true });
  fx = await startMigratedPostgres();
  const { session, release } = await fx.connect();
  try {
    sids = await seedPair(session, campaign);
  } finally {
    await release();
  }
  const media = new MemoryR2();
  await media.put(`recordings/${sids.bad}.wav`, tinyWav());
  const app = standaloneDashboardApp();
  const bindings = {
    DASHBOARD_PASSWORD: PASSWORD,
    DATABASE_URL: fx.pg.databaseUrl,
    NEON_WS_PROXY: fx.pg.wsProxyUrl,
    LOG_LEVEL: "warn",
    MEDIA: media,
  };
  server = await serveFetch((req) => app.fetch(req, bindings));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fx?.pg.close();
});

describe("dashboard in Chromium", () => {
  it("requires the login, then shows the call with transcript, waterfall, scorecard and a playable recording", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/dashboard/calls?campaign=${campaign}`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/login");
    await page.screenshot({ path: `${RESULTS}login.png` });

    await page.getByLabel("Dashboard password").fill("wrong password here");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not right");

    await page.getByLabel("Dashboard password").fill(PASSWORD);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/dashboard\/calls\?campaign=/);
    const link = page.getByRole("link", { name: sids.bad });
    expect(await link.count()).toBe(1);
    expect(await page.getByRole("link", { name: sids.good }).count()).toBe(1);
    await page.screenshot({ path: `${RESULTS}calls.png`, fullPage: true });

    await link.click();
    await page.waitForURL(new RegExp(`/dashboard/calls/${sids.bad}$`));
    const transcript = page.locator("#transcript");
    expect(await transcript.getByText("Please stop calling me").count()).toBe(1);
    expect(await transcript.locator("li.agent.cut").count()).toBeGreaterThan(0);
    expect(await page.locator("#waterfall svg rect").count()).toBeGreaterThanOrEqual(8);
    expect(await page.locator("#flow-graph g.node.visited").count()).toBe(3);
    const compliance = page.locator('[data-criterion="compliance"]');
    expect(await compliance.locator(".fail").textContent()).toBe("Fail");
    expect(await compliance.textContent()).toContain("after the opt-out request");

    const audio = page.locator("audio#recording");
    await expect
      .poll(() => audio.evaluate((el) => (el as unknown as { readyState: number }).readyState), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(1);
    const durationS = await audio.evaluate((el) => (el as unknown as { duration: number }).duration);
    expect(durationS).toBeCloseTo(0.5, 1);
    await page.screenshot({ path: `${RESULTS}call.png`, fullPage: true });
    await page.close();
  });

  it("fits a phone screen and can be used with the keyboard", async () => {
    const ctx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
    });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/dashboard/login`);
    await page.getByLabel("Dashboard password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/dashboard$/);
    await page.goto(`${server.url}/dashboard/calls/${sids.good}`);
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(1);
    await page.keyboard.press("Tab");
    const focused = await page.evaluate<string>('document.activeElement?.textContent ?? ""');
    expect(focused).toBe("Skip to content");
    expect(await page.locator("audio#recording").count()).toBe(0);
    expect(await page.getByText("No recording stored for this call.").count()).toBe(1);
    await page.screenshot({ path: `${RESULTS}call-phone.png`, fullPage: true });
    await ctx.close();
  });

  it("renders every page under its Content-Security-Policy with nothing refused, and sign-out revokes the session", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const refused: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    await page.goto(`${server.url}/dashboard/login`);
    await page.getByLabel("Dashboard password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/dashboard$/);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === "dash_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.secure).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    for (const path of [
      "/dashboard",
      `/dashboard/calls?campaign=${campaign}`,
      `/dashboard/calls/${sids.bad}`,
      `/dashboard/calls/${sids.good}`,
    ]) {
      const res = await page.goto(`${server.url}${path}`);
      expect(res?.headers()["content-security-policy"], path).toContain("script-src 'none'");
      // The hashed stylesheet applied: the header bar has its colour, the legend swatches their size.
      const headerBg = await page.evaluate<string>(
        'getComputedStyle(document.querySelector("header")).backgroundColor',
      );
      expect(headerBg, path).toBe("rgb(16, 42, 67)");
    }
    await page.goto(`${server.url}/dashboard/calls/${sids.bad}`);
    const swatch = page.locator(".legend .swatch").first();
    expect(await swatch.evaluate((el) => el.getBoundingClientRect().width)).toBe(12);
    expect(refused).toEqual([]);

    const before = (await ctx.cookies()).find((c) => c.name === "dash_session");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/dashboard\/login$/);
    // The old cookie, replayed by hand, no longer opens anything.
    await ctx.addCookies([
      { ...(before ?? { name: "dash_session", value: "", domain: "127.0.0.1", path: "/dashboard" }) },
    ]);
    await page.goto(`${server.url}/dashboard/calls`);
    expect(new URL(page.url()).pathname).toBe("/dashboard/login");
    expect(refused).toEqual([]);
    await ctx.close();
  });
});
