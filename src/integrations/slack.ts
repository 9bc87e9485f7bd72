/**
 * Slack client: incoming webhooks (plain-text `ok` / error code replies) and `chat.postMessage`
 * (Bearer token, `{ok, error}` JSON). A chat post is not idempotent, so only 429 is retried.
 */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { type HttpDeps, sendRequest } from "./http";

/** A message: `text` is required as the notification fallback even when `blocks` are sent. */
export interface SlackMessage {
  text: string;
  blocks?: readonly unknown[];
}

/** Connection settings for whichever transport is configured. */
export interface SlackConfig {
  /** `https://hooks.slack.com/services/T…/B…/…` (the URL is the secret). */
  webhookUrl?: string;
  /** Bot token for chat.postMessage. */
  botToken?: string;
  /** Web API base, default `https://slack.com/api`. */
  apiBaseUrl?: string;
  timeoutMs?: number;
}

/** Slack client. */
export interface SlackClient {
  /** Post through the incoming webhook. Throws ProviderError with Slack's error code. */
  postWebhook(message: SlackMessage, signal?: AbortSignal): Promise<void>;
  /** chat.postMessage to a channel id or name; resolves with the message `ts`. */
  postMessage(channel: string, message: SlackMessage, signal?: AbortSignal): Promise<string>;
}

const postMessageResponse = z.looseObject({
  ok: z.boolean(),
  error: z.string().optional(),
  ts: z.string().optional(),
});

/** Slack errors that a retry could fix; the rest (bad channel, revoked token) need a human. */
const RETRYABLE_SLACK_ERRORS = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
]);

/** Create a client; build it per request or per Durable Object. */
export function createSlackClient(config: SlackConfig, deps: HttpDeps = {}): SlackClient {
  const timeoutMs = config.timeoutMs ?? 3_000;
  return {
    async postWebhook(message, signal) {
      if (!config.webhookUrl)
        throw new ProviderError("slack", "no webhook URL configured", undefined, { retryable: false });
      const res = await sendRequest(
        {
          provider: "slack",
          url: config.webhookUrl,
          method: "POST",
          json: message,
          timeoutMs,
          signal,
          retry: "rate-limit-only",
        },
        deps,
      );
      const body = res.text.trim();
      if (res.status === 200 && body === "ok") return;
      const code = body === "" ? `HTTP ${res.status}` : body.slice(0, 100);
      throw new ProviderError("slack", `webhook rejected: ${code}`, res.status, { requestId: res.requestId });
    },

    async postMessage(channel, message, signal) {
      if (!config.botToken)
        throw new ProviderError("slack", "no bot token configured", undefined, { retryable: false });
      const base = (config.apiBaseUrl ?? "https://slack.com/api").replace(/\/+$/, "");
      const res = await sendRequest(
        {
          provider: "slack",
          url: `${base}/chat.postMessage`,
          method: "POST",
          headers: {
            authorization: `Bearer ${config.botToken}`,
            "content-type": "application/json; charset=utf-8",
          },
          json: { channel, ...message },
          timeoutMs,
          signal,
          retry: "rate-limit-only",
        },
        deps,
      );
      if (res.status !== 200) {
        throw new ProviderError("slack", `chat.postMessage HTTP ${res.status}`, res.status, {
          requestId: res.requestId,
        });
      }
      let parsed: z.infer<typeof postMessageResponse>;
      try {
        parsed = postMessageResponse.parse(JSON.parse(res.text));
      } catch (err) {
        throw new ProviderError("slack", "chat.postMessage returned an unexpected body", res.status, {
          retryable: false,
          requestId: res.requestId,
          cause: err,
        });
      }
      if (!parsed.ok) {
        const code = parsed.error ?? "unknown_error";
        throw new ProviderError("slack", `chat.postMessage failed: ${code}`, res.status, {
          retryable: RETRYABLE_SLACK_ERRORS.has(code),
          requestId: res.requestId,
        });
      }
      return parsed.ts ?? "";
    },
  };
}
