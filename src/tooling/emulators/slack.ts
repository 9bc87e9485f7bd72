/**
 * Slack emulator (Node): incoming webhooks (200 `ok`, plain-text error codes) and
 * `chat.postMessage` (Bearer token, always-200 `{ok,error}` JSON), an optional per-second rate limit
 * answered with 429 + Retry-After, and a record of every message accepted.
 */
import {
  asRecord,
  bearerToken,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";

/** A message Slack accepted. */
export interface SlackEmulatedMessage {
  via: "webhook" | "api";
  channel: string;
  text: string;
  blocks?: unknown[];
  ts: string;
}

/** Options: webhook path (the secret), bot token, known channels, rate limit. */
export interface SlackEmulatorOptions extends EmulatorBaseOptions {
  /** Default `/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX`. */
  webhookPath?: string;
  /** Channel the webhook posts into. Default `#alerts`. */
  webhookChannel?: string;
  botToken?: string;
  /** When set, chat.postMessage to any other channel fails with channel_not_found. */
  channels?: string[];
  /** Messages allowed per `intervalMs` (per transport) before 429. */
  rateLimit?: { max: number; intervalMs: number; retryAfterSeconds?: number };
}

/** Emulator handle with the accepted messages and the full webhook URL. */
export interface SlackEmulator extends EmulatorControls {
  webhookUrl: string;
  apiBaseUrl: string;
  messages(): SlackEmulatedMessage[];
}

function plain(status: number, text: string, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, body: text, headers: { "content-type": "text/html", ...headers } };
}

/** Start the Slack emulator. Default bot token `xoxb-test`. */
export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const webhookPath = options.webhookPath ?? "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
  const botToken = options.botToken ?? "xoxb-test";
  let messages: SlackEmulatedMessage[] = [];
  let hits: Record<"webhook" | "api", number[]> = { webhook: [], api: [] };
  let seq = 0;

  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, "0")}`;

  /** Retry-After seconds when over the limit, else undefined (and the hit is counted). */
  const limited = (kind: "webhook" | "api"): number | undefined => {
    const limit = options.rateLimit;
    if (!limit) return undefined;
    const t = Date.now();
    hits[kind] = hits[kind].filter((h) => t - h < limit.intervalMs);
    if (hits[kind].length >= limit.max) return limit.retryAfterSeconds ?? Math.ceil(limit.intervalMs / 1000);
    hits[kind].push(t);
    return undefined;
  };

  const webhook = (req: RecordedRequest): EmulatorResponse => {
    if (req.path !== webhookPath) return plain(404, "no_service");
    if (req.method !== "POST") return plain(405, "invalid_method");
    const retryAfter = limited("webhook");
    if (retryAfter !== undefined) return plain(429, "rate_limited", { "retry-after": String(retryAfter) });
    const body = asRecord(tryJson(req.body));
    if (!body) return plain(400, "invalid_payload");
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (text === "" && !blocks) return plain(400, "no_text");
    messages.push({
      via: "webhook",
      channel: options.webhookChannel ?? "#alerts",
      text,
      ...(blocks ? { blocks } : {}),
      ts: nextTs(),
    });
    return plain(200, "ok");
  };

  const postMessage = (req: RecordedRequest): EmulatorResponse => {
    const isForm = (req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded");
    const body: Record<string, unknown> = isForm
      ? Object.fromEntries(new URLSearchParams(req.body))
      : (asRecord(tryJson(req.body)) ?? {});
    const token = bearerToken(req) ?? (typeof body.token === "string" ? body.token : undefined);
    const fail = (error: string) => ({ status: 200, body: { ok: false, error } });
    if (token === undefined) return fail("not_authed");
    if (token !== botToken) return fail("invalid_auth");
    const retryAfter = limited("api");
    if (retryAfter !== undefined) {
      return {
        status: 429,
        body: { ok: false, error: "ratelimited" },
        headers: { "retry-after": String(retryAfter) },
      };
    }
    const channel = typeof body.channel === "string" ? body.channel : "";
    if (channel === "" || (options.channels && !options.channels.includes(channel)))
      return fail("channel_not_found");
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (text === "" && !blocks) return fail("no_text");
    const ts = nextTs();
    messages.push({ via: "api", channel, text, ...(blocks ? { blocks } : {}), ts });
    return { status: 200, body: { ok: true, channel, ts, message: { type: "message", text, ts } } };
  };

  const impl = {
    name: "slack",
    state: () => ({ messages }),
    reset: () => {
      messages = [];
      hits = { webhook: [], api: [] };
    },
    handle(req: RecordedRequest): EmulatorResponse {
      if (req.path === "/api/chat.postMessage") return postMessage(req);
      if (req.path.startsWith("/services/")) return webhook(req);
      return plain(404, "not_found");
    },
  };
  const controls = await startHttpEmulator(impl, options);
  return {
    ...controls,
    webhookUrl: `${controls.url}${webhookPath}`,
    apiBaseUrl: `${controls.url}/api`,
    messages: () => [...messages],
  };
}
