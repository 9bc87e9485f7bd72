import { describe, expect, it } from "vitest";
import {
  adapterReport,
  announceLocalAdapters,
  ConfigError,
  LOCAL_CREDENTIALS,
  parseConfig,
} from "../../src/config/config";
import { createLogger } from "../../src/lib/log";

/** What `npm run dev` and the tests set: missing credentials fall back to the emulators' ones. */
const LOCAL = { LOCAL_STAND_INS: "true" };

describe("parseConfig", () => {
  it("selects local adapters when credentials are missing in local development", () => {
    const config = parseConfig(LOCAL);
    expect(Object.values(adapterReport(config))).toEqual([
      "local",
      "local",
      "local",
      "local",
      "local",
      "local",
      "local",
      "none",
      "local",
    ]);
    expect(config.maxCallDurationMs).toBe(600_000);
  });

  it("uses the real provider when its credential is set", () => {
    const config = parseConfig({ ...LOCAL, DEEPGRAM_API_KEY: "dg_secret", OPENAI_API_KEY: "sk-x" });
    expect(config.deepgram).toMatchObject({ mode: "real", credential: "dg_secret" });
    expect(config.openai.mode).toBe("real");
    expect(config.elevenlabs.mode).toBe("local");
  });

  it("reports a keyed service pointed at loopback as local", () => {
    const config = parseConfig({ OPENAI_API_KEY: "k", OPENAI_BASE_URL: "http://127.0.0.1:9999/v1" });
    expect(config.openai.mode).toBe("local");
  });

  it("gives each LLM tier the other as its fallback model unless one is configured or none is wanted", () => {
    const tiers = parseConfig({}).openai;
    expect(tiers.fallbackModels).toEqual({ "gpt-4o-mini": "gpt-4o", "gpt-4o": "gpt-4o-mini" });
    expect(tiers).toMatchObject({ timeoutMs: 2_500, attemptTimeoutMs: 1_500 });
    const second = parseConfig({ OPENAI_FALLBACK_MODEL: "gpt-4.1-mini" }).openai.fallbackModels;
    expect(second).toEqual({ "gpt-4o-mini": "gpt-4.1-mini", "gpt-4o": "gpt-4.1-mini" });
    expect(parseConfig({ OPENAI_FALLBACK_MODEL: "none" }).openai.fallbackModels).toEqual({});
    const same = parseConfig({ OPENAI_MODEL: "gpt-4o", OPENAI_REASONING_MODEL: "gpt-4o" }).openai;
    expect(same.fallbackModels).toEqual({});
    expect(parseConfig({ LLM_TIMEOUT_MS: "1000" }).openai.attemptTimeoutMs).toBe(1_000);
  });

  it.each([
    ["MAX_CALL_DURATION_MS", "ten minutes"],
    ["DEEPGRAM_BASE_URL", "not a url"],
    ["DATABASE_URL", "mysql://x"],
    ["LOG_LEVEL", "loud"],
  ])("fails fast naming %s when malformed", (variable, value) => {
    expect(() => parseConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => parseConfig({ [variable]: value })).toThrowError(new RegExp(variable));
  });

  it("needs both halves of the Upstash credentials", () => {
    expect(() => parseConfig({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" })).toThrowError(
      /UPSTASH_REDIS_REST_TOKEN/,
    );
  });

  it("logs local adapters once, by name, never a value", () => {
    const lines: string[] = [];
    const log = createLogger({}, "debug", (_l, msg, fields) =>
      lines.push(JSON.stringify({ msg, ...fields })),
    );
    const config = parseConfig({ ...LOCAL, OPENAI_API_KEY: "sk-very-secret" });
    announceLocalAdapters(config, log);
    announceLocalAdapters(config, log);
    expect(lines.length).toBe(8);
    expect(lines.join("\n")).not.toContain("sk-very-secret");
    expect(lines.join("\n")).not.toContain("llm");
  });
});

describe("fail closed outside local development", () => {
  const TWILIO_TOKEN = "0123456789abcdef0123456789abcdef";

  it("never falls back to the public stand-in credentials without LOCAL_STAND_INS=true", () => {
    for (const env of [{}, { LOCAL_STAND_INS: "false" }, { LOCAL_STAND_INS: "" }]) {
      const config = parseConfig(env);
      expect(config.localStandIns).toBe(false);
      const values = Object.values(LOCAL_CREDENTIALS) as string[];
      expect(values).not.toContain(config.twilio.credential);
      expect(values).not.toContain(config.streamTokenSecret);
      expect(values).not.toContain(config.calcom.webhookSecret);
      expect(config.twilio.credential).toMatch(/^[0-9a-f]{64}$/);
      expect(parseConfig(env).twilio.credential).not.toBe(config.twilio.credential);
    }
  });

  it("names every missing credential a route needs, by variable", () => {
    const problems = parseConfig({}).unconfigured;
    const missing = problems.filter((p) => p.problem === "missing").map((p) => p.variable);
    for (const v of [
      "TWILIO_AUTH_TOKEN",
      "TWILIO_ACCOUNT_SID",
      "CALCOM_WEBHOOK_SECRET",
      "DEEPGRAM_API_KEY",
    ]) {
      expect(missing).toContain(v);
    }
    expect(problems).toContainEqual({
      need: "streamToken",
      variable: "TWILIO_AUTH_TOKEN",
      problem: "missing",
    });
    expect(Object.values(adapterReport(parseConfig({})))).toContain("unconfigured");
    expect(parseConfig(LOCAL).unconfigured).toEqual([]);
  });

  it("uses a well-formed credential as given and signs stream tokens with it", () => {
    const config = parseConfig({ TWILIO_AUTH_TOKEN: TWILIO_TOKEN });
    expect(config.twilio.credential).toBe(TWILIO_TOKEN);
    expect(config.streamTokenSecret).toBe(TWILIO_TOKEN);
    expect(config.unconfigured.filter((p) => p.need === "twilio" || p.need === "streamToken")).toEqual([]);
  });

  it.each([
    ["TWILIO_AUTH_TOKEN", "SKnotanauthtoken", "twilio"],
    ["TWILIO_ACCOUNT_SID", "AC123", "twilioRest"],
    ["STREAM_TOKEN_SECRET", "short", "streamToken"],
    ["CALCOM_WEBHOOK_SECRET", "tiny", "calcomWebhook"],
    ["ADMIN_TOKEN", "adm1n-t0ken", "admin"],
    ["CAMPAIGN_API_TOKEN", "c4mpaign-t0ken", "campaignApi"],
    ["DASHBOARD_PASSWORD", "pa55w0rd", "dashboard"],
  ])(
    "refuses a malformed %s even in local development, without failing other routes",
    (variable, value, need) => {
      const config = parseConfig({ ...LOCAL, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, [variable]: value });
      expect(config.unconfigured).toContainEqual({ need, variable, problem: "malformed" });
      expect(JSON.stringify(config.unconfigured)).not.toContain(value);
      expect([config.twilio.credential, config.streamTokenSecret, config.calcom.webhookSecret]).not.toContain(
        value,
      );
      expect(config.adminToken).not.toBe(value);
      expect(config.campaignApiToken).not.toBe(value);
      expect(config.dashboardPassword).not.toBe(value);
    },
  );

  it("logs a refused credential by variable name only", () => {
    const lines: string[] = [];
    const log = createLogger({}, "debug", (_l, msg, fields) =>
      lines.push(JSON.stringify({ msg, ...fields })),
    );
    announceLocalAdapters(parseConfig({ CALCOM_WEBHOOK_SECRET: "leaky-but-short" }), log);
    const text = lines.join("\n");
    expect(text).toContain("CALCOM_WEBHOOK_SECRET");
    expect(text).not.toContain("leaky-but-short");
  });
});

describe(".dev.vars.example", () => {
  it("lists every variable the config reads, each with an explanation", async () => {
    const { readFile } = await import("node:fs/promises");
    const { EnvSchema } = await import("../../src/config/config");
    const text = await readFile(new URL("../../.dev.vars.example", import.meta.url), "utf8");
    const lines = text.split("\n");
    for (const key of Object.keys(EnvSchema.shape)) {
      const at = lines.findIndex((l) => l.startsWith(`${key}=`));
      expect(at, `${key} missing from .dev.vars.example`).toBeGreaterThan(0);
      expect(lines[at - 1], `${key} needs a one-line explanation`).toMatch(/^# \S/);
    }
  });
});
