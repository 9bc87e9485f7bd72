/**
 * Typed configuration: the one place that reads `env`. Parses every variable with zod, decides for
 * each outside service whether the real provider or its local stand-in is used, and fails fast with
 * an error naming the variable when a value is malformed. Secrets are never logged.
 *
 * Fail closed: local stand-in credentials are used only when `LOCAL_STAND_INS=true`, which only
 * `npm run dev` and the tests set. Without it a missing or malformed credential is recorded in
 * `unconfigured` (by variable name) and the routes that need it answer 503 (see `./require.ts`);
 * verification secrets are then unguessable random values so nothing can be forged even where a
 * route forgot to ask.
 */
import { z } from "zod";
import { type CarrierOverrides, CarrierOverridesSchema } from "../call/carrier-vad";
import { DEFAULT_NUMBER_COUNTRIES, DEFAULT_NUMBER_TYPES, NUMBER_TYPES } from "../lead/number-policy";
import type { Logger } from "../lib/log";

const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => URL.canParse(v), { message: `${name} must be an absolute URL` });

const optionalSecret = z
  .string()
  .trim()
  .transform((v) => (v === "" ? undefined : v))
  .optional();

/** An optional absolute URL where an empty value (as copied from `.dev.vars.example`) means unset. */
const optionalUrl = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => v === "" || URL.canParse(v), { message: `${name} must be an absolute URL` })
    .transform((v) => (v === "" ? undefined : v))
    .optional();

const positiveIntMs = z.coerce.number().int().positive();

/** Site ids and owner ids: 1-64 letters, digits, `_` or `-` (the lead form's `site_id` rule). */
const SITE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A JSON-valued variable; an empty value means unset. */
const jsonVar = <T extends z.ZodType>(name: string, schema: T) =>
  z
    .string()
    .trim()
    .transform((v, ctx) => {
      if (v === "") return undefined;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: `${name} must be JSON` });
        return z.NEVER;
      }
    })
    .pipe(schema.optional());

/** One web-form site allowed to post leads: its browser origins and its speed-to-lead campaign. */
export const LeadSiteSchema = z.object({
  /** Exact origins (`https://www.example.com`) allowed by CORS for this site; empty = no browser posts. */
  origins: z.array(z.url().transform((u) => new URL(u).origin)).default([]),
  /** Cloudflare Turnstile secret key of the form's widget; a site without one takes no browser posts. */
  turnstileSecret: z.string().trim().min(1).optional(),
  /** Bearer token a CRM uses to post leads server to server (no Origin, no Turnstile); unset = no such posts. */
  serverToken: z.string().trim().min(32).optional(),
  /** The consent wording the form shows, by version; unset = leads from this site are never dialled. */
  consent: z
    .object({ version: z.string().trim().min(1).max(64), text: z.string().trim().min(1).max(2_000) })
    .optional(),
  /** Numbers this site's leads may ring: countries (ISO alpha-2) and numbering-plan types. */
  numbers: z
    .object({
      countries: z.array(z.string().regex(/^[A-Z]{2}$/)).default([...DEFAULT_NUMBER_COUNTRIES]),
      types: z.array(z.enum(NUMBER_TYPES)).default([...DEFAULT_NUMBER_TYPES]),
    })
    .default({ countries: [...DEFAULT_NUMBER_COUNTRIES], types: [...DEFAULT_NUMBER_TYPES] }),
  /** Leads accepted from this site per rolling UTC day. */
  dailyCap: z.number().int().positive().default(200),
  /** Campaign id passed to the outbound call (answer URL `campaign=`). */
  campaign: z.string().regex(SITE_ID).optional(),
  /** Whether leads from this site may be called back automatically ("speed to lead"). */
  callingAllowed: z.boolean().default(false),
  /** Flow the outbound call runs. */
  flow: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .default("outbound-booking"),
  /** Caller id for this site's calls (E.164); default TWILIO_FROM_NUMBER. */
  from: z
    .string()
    .regex(/^\+[1-9]\d{7,14}$/)
    .optional(),
});
export type LeadSite = z.infer<typeof LeadSiteSchema>;

/** Raw env schema: every variable the Worker reads. Keep `.dev.vars.example` in step with it. */
export const EnvSchema = z.object({
  /** `true` only under `npm run dev` and the tests: missing credentials fall back to the emulators' fixed ones. */
  LOCAL_STAND_INS: z.enum(["true", "false", ""]).default("false"),
  BUILD_VERSION: z.string().default("dev"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  PUBLIC_BASE_URL: url("PUBLIC_BASE_URL").optional(),
  STREAM_TOKEN_SECRET: optionalSecret,
  MAX_CALL_DURATION_MS: positiveIntMs.default(600_000),
  STREAM_TOKEN_TTL_MS: positiveIntMs.default(120_000),
  DEFAULT_FLOW: z.string().default("outbound-booking"),
  DEFAULT_TIMEZONE: z.string().default("Europe/London"),
  RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(0),
  VAD_CARRIER_OVERRIDES: z
    .string()
    .default("[]")
    .transform((v, ctx) => {
      try {
        return JSON.parse(v === "" ? "[]" : v) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "VAD_CARRIER_OVERRIDES must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(CarrierOverridesSchema),

  TWILIO_ACCOUNT_SID: optionalSecret,
  TWILIO_AUTH_TOKEN: optionalSecret,
  TWILIO_API_BASE_URL: url("TWILIO_API_BASE_URL").default("https://api.twilio.com"),

  DEEPGRAM_API_KEY: optionalSecret,
  DEEPGRAM_BASE_URL: url("DEEPGRAM_BASE_URL").default("wss://api.deepgram.com"),
  DEEPGRAM_MODEL: z.string().default("nova-2"),

  ELEVENLABS_API_KEY: optionalSecret,
  ELEVENLABS_BASE_URL: url("ELEVENLABS_BASE_URL").default("https://api.elevenlabs.io"),
  ELEVENLABS_VOICE_ID: z.string().default("JBFqnCBsd6RMkjVDRZzb"),
  ELEVENLABS_MODEL_ID: z.string().default("eleven_flash_v2_5"),

  AZURE_SPEECH_KEY: optionalSecret,
  AZURE_SPEECH_REGION: z
    .string()
    .trim()
    .regex(/^[a-z0-9]+$/, "must be an Azure region name such as uksouth")
    .default("uksouth"),
  AZURE_SPEECH_BASE_URL: optionalUrl("AZURE_SPEECH_BASE_URL"),
  AZURE_TTS_VOICE: z.string().default("en-GB-SoniaNeural"),

  GOOGLE_STT_API_KEY: optionalSecret,
  GOOGLE_STT_BASE_URL: url("GOOGLE_STT_BASE_URL").default("https://speech.googleapis.com"),

  OPENAI_API_KEY: optionalSecret,
  OPENAI_BASE_URL: url("OPENAI_BASE_URL").default("https://api.openai.com/v1"),
  OPENAI_MODEL: z.string().default("gpt-4o-mini"),
  OPENAI_REASONING_MODEL: z.string().default("gpt-4o"),
  /** Model asked when a turn's model fails (429, 5xx, hang); empty = the other tier (fast ↔ reasoning); `none` = no fallback model. */
  OPENAI_FALLBACK_MODEL: z.string().trim().default(""),
  LLM_TIMEOUT_MS: positiveIntMs.default(2_500),
  /** An attempt the fallback model may still follow is cut when no response started after this long (a hung request). */
  LLM_ATTEMPT_TIMEOUT_MS: positiveIntMs.default(1_500),

  DATABASE_URL: z
    .string()
    .trim()
    .refine((v) => v === "" || /^postgres(ql)?:\/\//.test(v), {
      message: "DATABASE_URL must be a postgres:// connection string",
    })
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  NEON_WS_PROXY: z.string().trim().optional(),

  UPSTASH_REDIS_REST_URL: url("UPSTASH_REDIS_REST_URL").optional(),
  UPSTASH_REDIS_REST_TOKEN: optionalSecret,

  CALCOM_API_KEY: optionalSecret,
  CALCOM_BASE_URL: url("CALCOM_BASE_URL").default("https://api.cal.com"),
  CALCOM_EVENT_TYPE_ID: z.coerce.number().int().positive().default(1),
  CALCOM_WEBHOOK_SECRET: optionalSecret,

  HUBSPOT_ACCESS_TOKEN: optionalSecret,
  HUBSPOT_BASE_URL: url("HUBSPOT_BASE_URL").default("https://api.hubapi.com"),
  HUBSPOT_PORTAL_ID: z.string().default("0"),

  SLACK_WEBHOOK_URL: url("SLACK_WEBHOOK_URL").optional(),
  SLACK_BOT_TOKEN: optionalSecret,
  SLACK_BASE_URL: url("SLACK_BASE_URL").default("https://slack.com"),
  SLACK_CHANNEL: z.string().default("#inbound-leads"),
  TURNSTILE_BASE_URL: url("TURNSTILE_BASE_URL").default("https://challenges.cloudflare.com"),

  ADMIN_TOKEN: optionalSecret,
  DASHBOARD_PASSWORD: optionalSecret,

  TWILIO_FROM_NUMBER: z
    .string()
    .trim()
    .refine((v) => v === "" || /^\+[1-9]\d{7,14}$/.test(v), { message: "TWILIO_FROM_NUMBER must be E.164" })
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  LEAD_SITES: jsonVar("LEAD_SITES", z.record(z.string().regex(SITE_ID), LeadSiteSchema)).default({}),
  LEAD_RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().positive().default(10),
  LEAD_RATE_LIMIT_SITE_PER_MINUTE: z.coerce.number().int().positive().default(120),
  SLOTS_RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().positive().default(30),
  SLACK_QUEUE_CHANNEL: z.string().default("#lead-queue"),
  CALCOM_OWNER_EVENT_TYPES: jsonVar(
    "CALCOM_OWNER_EVENT_TYPES",
    z.record(z.string().regex(SITE_ID), z.number().int().positive()),
  ).default({}),
  HUBSPOT_APP_BASE_URL: url("HUBSPOT_APP_BASE_URL").default("https://app.hubspot.com"),
  ALLOW_CLOCK_OVERRIDE: z.enum(["true", "false", ""]).default("false"),
  CLOCK_OVERRIDE_MS: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce.number().int().nonnegative().optional(),
  ),
  CAMPAIGN_API_TOKEN: optionalSecret,
  HANDOFF_NUMBER: z
    .string()
    .trim()
    .refine((v) => v === "" || /^\+[1-9]\d{7,14}$/.test(v), { message: "HANDOFF_NUMBER must be E.164" })
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  TRANSFER_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(120).default(20),
});

export type RawEnv = z.infer<typeof EnvSchema>;

/** Whether a port talks to the real provider or to a local emulator / embedded store. */
export type AdapterMode = "real" | "local";

export interface ServiceConfig {
  mode: AdapterMode;
  baseUrl: string;
  /** Credential to send; for local adapters, a fixed emulator credential. */
  credential: string;
}

/** What a route may need from configuration; each is provided by one or two variables. */
export type Need =
  | "twilio"
  | "twilioRest"
  | "streamToken"
  | "calcomWebhook"
  | "calendar"
  | "stt"
  | "tts"
  | "llm"
  | "crm"
  | "chat"
  | "admin"
  | "campaignApi"
  | "dashboard";

/** A credential that is missing (outside local development) or malformed: by variable name, never value. */
export interface CredentialProblem {
  need: Need;
  variable: string;
  problem: "missing" | "malformed";
}

export interface AppConfig {
  /** Whether missing credentials fall back to the local emulators' fixed ones (`LOCAL_STAND_INS=true`). */
  localStandIns: boolean;
  /** Credentials the routes that need them lack; empty when everything is configured. */
  unconfigured: CredentialProblem[];
  buildVersion: string;
  logLevel: RawEnv["LOG_LEVEL"];
  publicBaseUrl: string | undefined;
  streamTokenSecret: string;
  streamTokenTtlMs: number;
  maxCallDurationMs: number;
  defaultFlow: string;
  defaultTimeZone: string;
  /** Days a call's recording and transcript are kept (0 = until erased on request). */
  retentionDays: number;
  /** VAD/endpointing overrides by the other party's number prefix. */
  carrierVad: CarrierOverrides;
  twilio: ServiceConfig & { accountSid: string };
  deepgram: ServiceConfig & { model: string };
  elevenlabs: ServiceConfig & { voiceId: string; modelId: string };
  /** Azure Neural TTS, the TTS fallback; `undefined` (no AZURE_SPEECH_KEY) means no TTS fallback. */
  azureTts: { apiKey: string; baseUrl: string; voice: string } | undefined;
  /** Google speech-to-text, the STT fallback; `undefined` (no GOOGLE_STT_API_KEY) means no STT fallback. */
  googleStt: { apiKey: string; baseUrl: string } | undefined;
  openai: ServiceConfig & {
    model: string;
    reasoningModel: string;
    /** The turn's LLM budget: every attempt, retry wait and fallback-model attempt fits inside it. */
    timeoutMs: number;
    /** How long an attempt the fallback model may still follow waits for its response to start (never above `timeoutMs`). */
    attemptTimeoutMs: number;
    /** Model → the model asked when it failed (no entry = no fallback model for it). */
    fallbackModels: Record<string, string>;
  };
  calcom: ServiceConfig & { eventTypeId: number; webhookSecret: string };
  hubspot: ServiceConfig & { portalId: string };
  slack: ServiceConfig & { webhookUrl: string; channel: string };
  /** Neon Postgres; `undefined` keeps events in the Durable Object outbox until one is configured. */
  database: { mode: AdapterMode; url: string; wsProxy: string | undefined } | undefined;
  /** Upstash Redis; `mode: "local"` with no url means Durable Object storage behind the same interface. */
  redis: { mode: AdapterMode; url: string | undefined; token: string | undefined };
  /** Bearer token for `/admin/*`; `undefined` disables the admin routes (403). */
  adminToken: string | undefined;
  /** Operator dashboard password (`/dashboard`); `undefined` disables the dashboard (403). */
  dashboardPassword: string | undefined;
  /** Web-form lead ingest and speed to lead. */
  leads: {
    sites: Record<string, LeadSite>;
    rateLimitIpPerMinute: number;
    rateLimitSitePerMinute: number;
    /** Default caller id for speed-to-lead calls; `undefined` = leads are queued for a human, never dialled. */
    fromNumber: string | undefined;
    /** Slack channel of the out-of-hours lead queue (chat.postMessage; the webhook posts to its own channel). */
    queueChannel: string;
    /** HubSpot app origin for record links (EU portals: https://app-eu1.hubspot.com). */
    crmAppBaseUrl: string;
    /** Turnstile siteverify origin (`https://challenges.cloudflare.com`, or the local emulator). */
    turnstileBaseUrl: string;
  };
  /** `GET /api/slots` requests allowed per client address per minute (each one is a Cal.com API call). */
  slotsRateLimitIpPerMinute: number;
  /** owner_id -> Cal.com event type; empty = every owner uses `calcom.eventTypeId`. */
  calcomOwners: Record<string, number>;
  /** Fixed "now" for business-hours decisions, honoured only when ALLOW_CLOCK_OVERRIDE=true (tests). */
  clockOverrideMs: number | undefined;
  /** Bearer token for `/api/campaigns*`; `undefined` closes the campaign API (403). */
  campaignApiToken: string | undefined;
  /** Warm transfer to a human: the number dialled and how long it may ring before a callback is offered. */
  transfer: { handoffNumber: string | undefined; timeoutSeconds: number };
}

/** Credentials the local emulators accept. Not secrets: they only open local stand-ins. */
export const LOCAL_CREDENTIALS = {
  twilioAccountSid: "AC00000000000000000000000000000000",
  twilioAuthToken: "local-twilio-auth-token",
  deepgram: "local-deepgram-key",
  elevenlabs: "local-elevenlabs-key",
  openai: "local-openai-key",
  calcom: "cal_local_key",
  hubspot: "local-hubspot-token",
  slack: "xoxb-local",
  calcomWebhook: "local-calcom-webhook-secret",
} as const;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

function isLoopback(u: string): boolean {
  try {
    const host = new URL(u).hostname;
    return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
  } catch {
    return false;
  }
}

/** Shortest bearer token an operator may choose (ADMIN_TOKEN, CAMPAIGN_API_TOKEN). */
export const MIN_BEARER_TOKEN_LENGTH = 24;
/** Shortest HMAC secret we accept for signing our own tokens or checking Cal.com's webhooks. */
export const MIN_HMAC_SECRET_LENGTH = 16;
/** Shortest operator dashboard password. */
export const MIN_DASHBOARD_PASSWORD_LENGTH = 12;

/** A Twilio Auth Token is 32 hex characters; anything else (an API key secret, a SID) cannot sign. */
const isTwilioAuthToken = (v: string) => /^[0-9a-fA-F]{32}$/.test(v);
const isAccountSid = (v: string) => /^AC[0-9a-fA-F]{32}$/.test(v);
const isApiKey = (v: string) => /^\S+$/.test(v);
const isHmacSecret = (v: string) => v.length >= MIN_HMAC_SECRET_LENGTH && isApiKey(v);
const isBearerToken = (v: string) => v.length >= MIN_BEARER_TOKEN_LENGTH && isApiKey(v);

/** A fresh random secret: what a refused credential becomes, so nothing signed with a guess verifies. */
function unguessable(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A checked credential: `given` is the configured value when well-formed; `use` is what to use. */
interface Checked {
  given: string | undefined;
  use: string;
}

/**
 * Picks the service's mode and endpoint. With a credential the configured base URL is used (it may
 * still point at a local emulator, then reported as "local"). Without one the service runs on its
 * local stand-in: the same adapter against the base URL (which `npm run dev` points at an emulator)
 * with the emulator's fixed credential (or, outside local development, an unusable one).
 */
function service(credential: Checked, baseUrl: string): ServiceConfig {
  if (credential.given)
    return { mode: isLoopback(baseUrl) ? "local" : "real", baseUrl, credential: credential.given };
  return { mode: "local", baseUrl, credential: credential.use };
}

/** Parse `env` into an `AppConfig`, or throw a `ConfigError` naming the first bad variable. */
export function parseConfig(env: Record<string, unknown>): AppConfig {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key];
    if (typeof v === "string" || typeof v === "number") picked[key] = v;
  }
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? "env");
    throw new ConfigError(variable, issue?.message ?? "invalid value");
  }
  const e = parsed.data;
  const L = LOCAL_CREDENTIALS;
  const localStandIns = e.LOCAL_STAND_INS === "true";
  const unconfigured: CredentialProblem[] = [];
  /**
   * A well-formed credential is used as given. A missing one becomes the emulator's stand-in only in
   * local development; otherwise (and whenever malformed) it is recorded as a problem and replaced by
   * an unguessable value.
   */
  const check = (
    need: Need,
    variable: string,
    value: string | undefined,
    valid: (v: string) => boolean,
    standIn: string | undefined,
  ): Checked => {
    if (value !== undefined && valid(value)) return { given: value, use: value };
    if (value === undefined && localStandIns && standIn !== undefined)
      return { given: undefined, use: standIn };
    if (value !== undefined || standIn !== undefined) {
      unconfigured.push({ need, variable, problem: value === undefined ? "missing" : "malformed" });
    }
    return { given: undefined, use: unguessable() };
  };
  const twilioAuth = check(
    "twilio",
    "TWILIO_AUTH_TOKEN",
    e.TWILIO_AUTH_TOKEN,
    isTwilioAuthToken,
    L.twilioAuthToken,
  );
  const twilio = service(twilioAuth, e.TWILIO_API_BASE_URL);
  const accountSid = check(
    "twilioRest",
    "TWILIO_ACCOUNT_SID",
    e.TWILIO_ACCOUNT_SID,
    isAccountSid,
    L.twilioAccountSid,
  );
  // Stream and transfer tokens are signed with STREAM_TOKEN_SECRET, else with the Twilio Auth Token.
  let streamTokenSecret: string;
  if (e.STREAM_TOKEN_SECRET !== undefined) {
    streamTokenSecret = check(
      "streamToken",
      "STREAM_TOKEN_SECRET",
      e.STREAM_TOKEN_SECRET,
      isHmacSecret,
      undefined,
    ).use;
  } else {
    streamTokenSecret = twilioAuth.use;
    const twilioProblem = unconfigured.find((p) => p.need === "twilio");
    if (twilioProblem) unconfigured.push({ ...twilioProblem, need: "streamToken" });
  }
  const calcomWebhookSecret = check(
    "calcomWebhook",
    "CALCOM_WEBHOOK_SECRET",
    e.CALCOM_WEBHOOK_SECRET,
    isHmacSecret,
    L.calcomWebhook,
  );
  const calcom = service(
    check("calendar", "CALCOM_API_KEY", e.CALCOM_API_KEY, isApiKey, L.calcom),
    e.CALCOM_BASE_URL,
  );
  const slackCredential = e.SLACK_BOT_TOKEN ?? (e.SLACK_WEBHOOK_URL ? "webhook" : undefined);
  const slack = service(
    check(
      "chat",
      e.SLACK_BOT_TOKEN ? "SLACK_BOT_TOKEN" : "SLACK_WEBHOOK_URL",
      slackCredential,
      isApiKey,
      L.slack,
    ),
    e.SLACK_BASE_URL,
  );
  const localSlackWebhook = `${slack.baseUrl}/services/T000LOCAL/B000LOCAL/local`;
  // Operator tokens have no stand-in: unset closes their routes (403), too short refuses them (503).
  const adminToken = check("admin", "ADMIN_TOKEN", e.ADMIN_TOKEN, isBearerToken, undefined).given;
  const campaignApiToken = check(
    "campaignApi",
    "CAMPAIGN_API_TOKEN",
    e.CAMPAIGN_API_TOKEN,
    isBearerToken,
    undefined,
  ).given;
  const dashboardPassword = check(
    "dashboard",
    "DASHBOARD_PASSWORD",
    e.DASHBOARD_PASSWORD,
    (v) => v.length >= MIN_DASHBOARD_PASSWORD_LENGTH,
    undefined,
  ).given;
  const deepgram = service(
    check("stt", "DEEPGRAM_API_KEY", e.DEEPGRAM_API_KEY, isApiKey, L.deepgram),
    e.DEEPGRAM_BASE_URL,
  );
  const elevenlabs = service(
    check("tts", "ELEVENLABS_API_KEY", e.ELEVENLABS_API_KEY, isApiKey, L.elevenlabs),
    e.ELEVENLABS_BASE_URL,
  );
  const openai = service(
    check("llm", "OPENAI_API_KEY", e.OPENAI_API_KEY, isApiKey, L.openai),
    e.OPENAI_BASE_URL,
  );
  const hubspot = service(
    check("crm", "HUBSPOT_ACCESS_TOKEN", e.HUBSPOT_ACCESS_TOKEN, isApiKey, L.hubspot),
    e.HUBSPOT_BASE_URL,
  );

  let redis: AppConfig["redis"];
  if (e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN) {
    const mode = isLoopback(e.UPSTASH_REDIS_REST_URL) ? "local" : "real";
    redis = { mode, url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN };
  } else if (e.UPSTASH_REDIS_REST_URL || e.UPSTASH_REDIS_REST_TOKEN) {
    const missing = e.UPSTASH_REDIS_REST_URL ? "UPSTASH_REDIS_REST_TOKEN" : "UPSTASH_REDIS_REST_URL";
    throw new ConfigError(missing, "Upstash needs both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN");
  } else {
    redis = { mode: "local", url: undefined, token: undefined };
  }

  return {
    localStandIns,
    unconfigured,
    buildVersion: e.BUILD_VERSION,
    logLevel: e.LOG_LEVEL,
    publicBaseUrl: e.PUBLIC_BASE_URL,
    streamTokenSecret,
    streamTokenTtlMs: e.STREAM_TOKEN_TTL_MS,
    maxCallDurationMs: e.MAX_CALL_DURATION_MS,
    defaultFlow: e.DEFAULT_FLOW,
    defaultTimeZone: e.DEFAULT_TIMEZONE,
    carrierVad: e.VAD_CARRIER_OVERRIDES,
    retentionDays: e.RETENTION_DAYS,
    twilio: { ...twilio, accountSid: accountSid.use },
    deepgram: {
      ...deepgram,
      model: e.DEEPGRAM_MODEL,
    },
    elevenlabs: {
      ...elevenlabs,
      voiceId: e.ELEVENLABS_VOICE_ID,
      modelId: e.ELEVENLABS_MODEL_ID,
    },
    azureTts: e.AZURE_SPEECH_KEY
      ? {
          apiKey: e.AZURE_SPEECH_KEY,
          baseUrl: e.AZURE_SPEECH_BASE_URL ?? `https://${e.AZURE_SPEECH_REGION}.tts.speech.microsoft.com`,
          voice: e.AZURE_TTS_VOICE,
        }
      : undefined,
    googleStt: e.GOOGLE_STT_API_KEY
      ? { apiKey: e.GOOGLE_STT_API_KEY, baseUrl: e.GOOGLE_STT_BASE_URL }
      : undefined,
    openai: {
      ...openai,
      model: e.OPENAI_MODEL,
      reasoningModel: e.OPENAI_REASONING_MODEL,
      timeoutMs: e.LLM_TIMEOUT_MS,
      attemptTimeoutMs: Math.min(e.LLM_ATTEMPT_TIMEOUT_MS, e.LLM_TIMEOUT_MS),
      fallbackModels: llmFallbackModels(e.OPENAI_FALLBACK_MODEL, e.OPENAI_MODEL, e.OPENAI_REASONING_MODEL),
    },
    calcom: {
      ...calcom,
      eventTypeId: e.CALCOM_EVENT_TYPE_ID,
      webhookSecret: calcomWebhookSecret.use,
    },
    hubspot: {
      ...hubspot,
      portalId: e.HUBSPOT_PORTAL_ID,
    },
    slack: { ...slack, webhookUrl: e.SLACK_WEBHOOK_URL ?? localSlackWebhook, channel: e.SLACK_CHANNEL },
    database: e.DATABASE_URL
      ? {
          mode: isLoopback(`http://${new URL(e.DATABASE_URL).host}`) ? "local" : "real",
          url: e.DATABASE_URL,
          wsProxy: e.NEON_WS_PROXY,
        }
      : undefined,
    redis,
    adminToken,
    dashboardPassword,
    leads: {
      sites: e.LEAD_SITES ?? {},
      rateLimitIpPerMinute: e.LEAD_RATE_LIMIT_IP_PER_MINUTE,
      rateLimitSitePerMinute: e.LEAD_RATE_LIMIT_SITE_PER_MINUTE,
      fromNumber: e.TWILIO_FROM_NUMBER,
      queueChannel: e.SLACK_QUEUE_CHANNEL,
      crmAppBaseUrl: e.HUBSPOT_APP_BASE_URL,
      turnstileBaseUrl: e.TURNSTILE_BASE_URL,
    },
    slotsRateLimitIpPerMinute: e.SLOTS_RATE_LIMIT_IP_PER_MINUTE,
    calcomOwners: e.CALCOM_OWNER_EVENT_TYPES ?? {},
    clockOverrideMs: e.ALLOW_CLOCK_OVERRIDE === "true" ? e.CLOCK_OVERRIDE_MS : undefined,
    campaignApiToken,
    transfer: { handoffNumber: e.HANDOFF_NUMBER, timeoutSeconds: e.TRANSFER_TIMEOUT_SECONDS },
  };
}

/**
 * The fallback model for a failed turn: the configured one, or else the other tier (the fast model's
 * fallback is the reasoning model and back: separate rate limits, separate capacity); never the
 * failed model itself.
 */
function llmFallbackModels(configured: string, fast: string, reasoning: string): Record<string, string> {
  if (configured.toLowerCase() === "none") return {};
  const out: Record<string, string> = {};
  for (const [model, other] of [
    [fast, reasoning],
    [reasoning, fast],
  ] as const) {
    const candidate = configured !== "" ? configured : other;
    if (candidate !== model) out[model] = candidate;
  }
  return out;
}

/** What `adapterReport` says of a port: its adapter, no store configured, or refused for a credential. */
export type PortReport = AdapterMode | "none" | "unconfigured";

/** Which adapter each port uses, with no secrets: the admin view of `GET /healthz`. */
export function adapterReport(config: AppConfig): Record<string, PortReport> {
  const refused = new Set(config.unconfigured.map((p) => p.need));
  const port = (mode: AdapterMode, need: Need): PortReport => (refused.has(need) ? "unconfigured" : mode);
  return {
    telephony: port(config.twilio.mode, "twilio"),
    stt: port(config.deepgram.mode, "stt"),
    tts: port(config.elevenlabs.mode, "tts"),
    llm: port(config.openai.mode, "llm"),
    calendar: port(config.calcom.mode, "calendar"),
    crm: port(config.hubspot.mode, "crm"),
    chat: port(config.slack.mode, "chat"),
    eventStore: config.database?.mode ?? "none",
    callState: config.redis.mode,
  };
}

const announced = new Set<string>();

/**
 * Log once per isolate, by service and variable name only, which services run on their local
 * stand-ins and which credentials are missing or malformed (their routes answer 503).
 */
export function announceLocalAdapters(config: AppConfig, log: Logger): void {
  for (const [port, mode] of Object.entries(adapterReport(config))) {
    if (mode === "real" || mode === "unconfigured" || announced.has(port)) continue;
    announced.add(port);
    log.info("using local adapter", { port, mode });
  }
  for (const { need, variable, problem } of config.unconfigured) {
    const key = `${need}:${variable}:${problem}`;
    if (announced.has(key)) continue;
    announced.add(key);
    log.error("credential missing or malformed: routes that need it answer 503", { need, variable, problem });
  }
}
