/**
 * Builds a call's outside-world ports from configuration: provider adapters (real or emulator, same
 * code), the in-call action dependencies, call control over Twilio REST and the R2 utterance cache.
 * Everything is built per Durable Object, never at module scope.
 */

import { startWarmTransfer } from "../campaign/warm-transfer";
import type { AppConfig } from "../config/config";
import { formatSlotForSpeech } from "../flow/time";
import type { ActionResult } from "../integrations/actions";
import { type ActionDeps, runAction } from "../integrations/actions";
import { createCalcomClient } from "../integrations/calcom";
import { createHubspotClient } from "../integrations/hubspot";
import { createSlackClient } from "../integrations/slack";
import { createTwilioRestClient } from "../integrations/twilio-rest";
import { createLogger, type Logger } from "../lib/log";
import { createAzureTts } from "../providers/azure-tts";
import { createDeepgramStt } from "../providers/deepgram";
import { createElevenLabsTts } from "../providers/elevenlabs";
import { type FallbackSwitch, withSttFallback, withTtsFallback } from "../providers/fallback";
import { createGoogleStt } from "../providers/google-stt";
import { withLlmRetry } from "../providers/llm-retry";
import { createOpenAiLlm } from "../providers/openai";
import type { LanguageModel, SpeechToText, TextToSpeech } from "../providers/ports";
import { openWorkerdWebSocket } from "../providers/websocket";
import type { UtteranceCache } from "./ports";
import { utteranceKey } from "./utterance-key";

export interface ProviderPorts {
  stt: SpeechToText;
  tts: TextToSpeech;
  llm: LanguageModel;
}

/**
 * STT, TTS and LLM adapters for this configuration. Deepgram falls back to Google speech-to-text and
 * ElevenLabs to Azure Neural TTS when those are configured; without them a provider failure takes the
 * engine's failure path. Fallback switches are logged (provider names and error text only). The LLM
 * is {@link llmPort}.
 */
export function providerPorts(config: AppConfig, log?: Logger): ProviderPorts {
  const logger = log ?? createLogger({ component: "providers" }, config.logLevel);
  const fallbackOptions = {
    onFallback: (e: FallbackSwitch) => logger.warn("provider fallback engaged", { ...e }),
  };
  const deepgram = createDeepgramStt({
    apiKey: config.deepgram.credential,
    baseUrl: config.deepgram.baseUrl,
    model: config.deepgram.model,
    openWebSocket: openWorkerdWebSocket,
  });
  const elevenlabs = createElevenLabsTts({
    apiKey: config.elevenlabs.credential,
    baseUrl: config.elevenlabs.baseUrl,
    voiceId: config.elevenlabs.voiceId,
    modelId: config.elevenlabs.modelId,
    openWebSocket: openWorkerdWebSocket,
  });
  const google = config.googleStt;
  const azure = config.azureTts;
  return {
    stt: google
      ? withSttFallback(
          deepgram,
          createGoogleStt({ apiKey: google.apiKey, baseUrl: google.baseUrl }),
          fallbackOptions,
        )
      : deepgram,
    tts: azure
      ? withTtsFallback(
          elevenlabs,
          createAzureTts({ apiKey: azure.apiKey, baseUrl: azure.baseUrl, voice: azure.voice }),
          fallbackOptions,
        )
      : elevenlabs,
    llm: llmPort(config, logger),
  };
}

/**
 * The OpenAI adapter behind the turn-budget-aware retry policy: within `LLM_TIMEOUT_MS` a 429, 5xx or
 * hung request is retried once (when its Retry-After fits) or sent to the fallback model; only when
 * both fail does the turn take the flow's fallback. The SDK's own retries are off (they would wait past
 * the budget). Retries are logged with provider facts only (model, status, code, timings).
 */
export function llmPort(config: AppConfig, log?: Logger): LanguageModel {
  const logger = log ?? createLogger({ component: "providers" }, config.logLevel);
  const { openai } = config;
  return withLlmRetry(
    createOpenAiLlm({
      apiKey: openai.credential,
      baseURL: openai.baseUrl,
      model: openai.model,
      timeoutMs: openai.timeoutMs,
      maxRetries: 0,
    }),
    {
      defaultModel: openai.model,
      fallbackModel: (model) => openai.fallbackModels[model],
      policy: { budgetMs: openai.timeoutMs, attemptTimeoutMs: openai.attemptTimeoutMs },
      onRecovery: (step) =>
        logger.warn(step.type === "retry" ? "llm retry" : "llm fallback model", {
          provider: "openai",
          ...step,
        }),
    },
  );
}

/** Twilio REST client for call control. */
export function twilioClient(config: AppConfig) {
  return createTwilioRestClient({
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.credential,
    baseUrl: config.twilio.baseUrl,
  });
}

/** The in-call action runner for one call. */
export function actionRunner(
  config: AppConfig,
  call: {
    callSid: string;
    calleePhone: string;
    /** Our number on this call: shown to the human taking a transfer. */
    ourNumber: string;
    flowId: string;
    campaign: string | null;
    /** What the flow has captured so far (the transfer whisper and CRM note carry it). */
    captured: () => Record<string, string>;
    log: Logger;
  },
  suppressions: ActionDeps["suppressions"],
): (name: string, params: Record<string, string>, signal: AbortSignal) => Promise<ActionResult> {
  const twilio = twilioClient(config);
  const crm = createHubspotClient({
    accessToken: config.hubspot.credential,
    baseUrl: config.hubspot.baseUrl,
  });
  const slack = createSlackClient(
    config.slack.mode === "real" && config.slack.credential !== "webhook"
      ? { botToken: config.slack.credential, apiBaseUrl: `${config.slack.baseUrl}/api` }
      : { webhookUrl: config.slack.webhookUrl },
  );
  const deps: ActionDeps = {
    callSid: call.callSid,
    calleePhone: call.calleePhone,
    config: {
      eventTypeId: config.calcom.eventTypeId,
      defaultTimeZone: config.defaultTimeZone,
      ...(config.transfer.handoffNumber ? { transferNumber: config.transfer.handoffNumber } : {}),
      budgetsMs: { transfer_to_human: 5_000 },
    },
    calendar: createCalcomClient({ apiKey: config.calcom.credential, baseUrl: config.calcom.baseUrl }),
    crm,
    chat: {
      notify: async (text, signal) => {
        if (config.slack.credential !== "webhook" && config.slack.mode === "real") {
          await slack.postMessage(config.slack.channel, { text }, signal);
        } else {
          await slack.postWebhook({ text }, signal);
        }
      },
    },
    suppressions,
    callControl: {
      // Warm transfer: the caller waits in a conference while the human hears a whisper with the
      // context; if nobody answers in time the caller comes back to the flow for a callback.
      transfer: async (q, signal) => {
        const captured = call.captured();
        const result = await startWarmTransfer(
          {
            twilio,
            crm,
            secret: config.streamTokenSecret,
            publicBaseUrl: config.publicBaseUrl ?? "",
            nowMs: Date.now(),
            log: call.log,
          },
          {
            callSid: q.callSid,
            flow: call.flowId,
            agentNumber: q.to,
            callerId: call.ourNumber,
            timeoutSeconds: config.transfer.timeoutSeconds,
            context: {
              who: captured.first_name ?? captured.name ?? "the caller",
              why: q.reason ?? "asked to speak to someone",
              captured: pickContext(captured),
            },
            ...(captured.email ? { contact: { email: captured.email, phone: call.calleePhone } } : {}),
            ...(call.campaign ? { campaign: call.campaign } : {}),
          },
        );
        if (signal?.aborted) return;
        if (result.fallback) throw new Error("nobody could be dialled for the transfer");
      },
    },
    formatSlot: (iso, tz) => formatSlotForSpeech(iso, tz),
    nowMs: () => Date.now(),
    logger: call.log,
  };
  return (name, params, signal) => runAction(name, params, deps, signal);
}

/** The captures worth whispering: short values, no internal variables. */
function pickContext(captured: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(captured)) {
    if (/^(slot_\d|transfer_target|time_zone)/.test(k) || v.length > 200) continue;
    out[k.slice(0, 40)] = v;
    if (Object.keys(out).length >= 8) break;
  }
  return out;
}

/** Pre-rendered lines in R2, with an in-memory copy of hot lines per isolate. */
export function r2UtteranceCache(
  bucket: R2Bucket,
  voice: { voiceId: string; modelId: string },
  waitUntil: (p: Promise<unknown>) => void,
  hot: Map<string, Uint8Array>,
): UtteranceCache {
  return {
    async get(text) {
      const key = await utteranceKey({ ...voice, text });
      const mem = hot.get(key);
      if (mem) return mem;
      const obj = await bucket.get(key);
      if (!obj) return null;
      const bytes = new Uint8Array(await obj.arrayBuffer());
      if (hot.size < 256) hot.set(key, bytes);
      return bytes;
    },
    backfill(text, audio) {
      waitUntil(
        utteranceKey({ ...voice, text }).then((key) =>
          bucket.put(key, audio, { httpMetadata: { contentType: "audio/basic" }, customMetadata: { text } }),
        ),
      );
    },
  };
}
