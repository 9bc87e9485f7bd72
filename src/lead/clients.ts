/**
 * Builds the business clients (calendar, CRM, chat, telephony, database) from configuration, per
 * request. Chat has two destinations: the team alert and the out-of-hours lead queue.
 */
import type { AppConfig } from "../config/config";
import { type CalcomClient, createCalcomClient } from "../integrations/calcom";
import type { HttpDeps } from "../integrations/http";
import { createHubspotClient, type HubspotClient } from "../integrations/hubspot";
import { createSlackClient } from "../integrations/slack";
import { createTwilioRestClient, type TwilioRestClient } from "../integrations/twilio-rest";
import { neonConnect } from "../store/neon";
import type { SqlConnect } from "../store/sql-client";

/** Where a chat line goes: the lead-alert channel or the human follow-up queue. */
export interface ChatPoster {
  alert(text: string, signal?: AbortSignal): Promise<void>;
  queue(text: string, signal?: AbortSignal): Promise<void>;
}

/** The clients one request uses. `db` is undefined without DATABASE_URL. */
export interface BusinessClients {
  calendar: CalcomClient;
  crm: HubspotClient;
  chat: ChatPoster;
  telephony: TwilioRestClient;
  db: SqlConnect | undefined;
}

/** Per-attempt timeouts: a handler answers within 2 s, so no single attempt may take longer. */
export interface ClientTimeouts {
  calendarMs?: number;
  crmMs?: number;
  chatMs?: number;
  telephonyMs?: number;
}

/** Build the clients for one request. */
export function businessClients(
  config: AppConfig,
  timeouts: ClientTimeouts = {},
  deps: HttpDeps = {},
): BusinessClients {
  const useBot = config.slack.mode === "real" && config.slack.credential !== "webhook";
  const slack = createSlackClient(
    useBot
      ? {
          botToken: config.slack.credential,
          apiBaseUrl: `${config.slack.baseUrl}/api`,
          timeoutMs: timeouts.chatMs,
        }
      : { webhookUrl: config.slack.webhookUrl, timeoutMs: timeouts.chatMs },
    deps,
  );
  const post = async (channel: string, prefix: string, text: string, signal?: AbortSignal) => {
    if (useBot) await slack.postMessage(channel, { text }, signal);
    // The incoming webhook is bound to one channel; the queue's lines are tagged instead.
    else await slack.postWebhook({ text: prefix ? `${prefix} ${text}` : text }, signal);
  };
  const db = config.database;
  return {
    calendar: createCalcomClient(
      { apiKey: config.calcom.credential, baseUrl: config.calcom.baseUrl, timeoutMs: timeouts.calendarMs },
      deps,
    ),
    crm: createHubspotClient(
      { accessToken: config.hubspot.credential, baseUrl: config.hubspot.baseUrl, timeoutMs: timeouts.crmMs },
      deps,
    ),
    chat: {
      alert: (text, signal) => post(config.slack.channel, "", text, signal),
      queue: (text, signal) => post(config.leads.queueChannel, "[lead-queue]", text, signal),
    },
    telephony: createTwilioRestClient(
      {
        accountSid: config.twilio.accountSid,
        authToken: config.twilio.credential,
        baseUrl: config.twilio.baseUrl,
        timeoutMs: timeouts.telephonyMs,
      },
      deps,
    ),
    db: db ? neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy, queryTimeoutMs: 5_000 }) : undefined,
  };
}

/** "now" for business-hours decisions: the test clock when the config allows one, else the real clock. */
export function clockFor(config: AppConfig): () => number {
  const fixed = config.clockOverrideMs;
  return fixed === undefined ? Date.now : () => fixed;
}

/** Split a full name into HubSpot's first and last name. */
export function splitName(name: string | undefined): { firstname?: string; lastname?: string } {
  const [first, ...rest] = (name ?? "").split(/\s+/).filter(Boolean);
  return { ...(first ? { firstname: first } : {}), ...(rest.length > 0 ? { lastname: rest.join(" ") } : {}) };
}
