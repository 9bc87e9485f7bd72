/** Azure Neural TTS fallback adapter: REST + SSML, raw µ-law 8 kHz out; contexts are emulated with one request per flush. */
import { AsyncQueue } from "./async-queue";
import { responseError, streamBody, thrownError, withTimeout } from "./http";
import type { TextToSpeech, TtsContext, TtsSession } from "./ports";

const PROVIDER = "azure-tts";

/** Adapter configuration. */
export interface AzureTtsConfig {
  apiKey: string;
  /** e.g. `uksouth`; used when baseUrl is absent. */
  region?: string;
  /** Default `https://{region}.tts.speech.microsoft.com`. */
  baseUrl?: string;
  /** Default `en-GB-SoniaNeural`. */
  voice?: string;
  /** Default `en-GB`. */
  language?: string;
  /** Whole-request timeout. Default 10000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Escape text for an XML text node / attribute (pure). */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c] ?? c,
  );
}

/** SSML document for one utterance (pure). */
export function buildSsml(text: string, voice: string, language: string): string {
  return `<speak version='1.0' xml:lang='${escapeXml(language)}'><voice name='${escapeXml(voice)}'>${escapeXml(text)}</voice></speak>`;
}

/** Create the Azure TTS adapter. */
export function createAzureTts(config: AzureTtsConfig): TextToSpeech {
  const base = (config.baseUrl ?? `https://${config.region ?? "uksouth"}.tts.speech.microsoft.com`).replace(
    /\/$/,
    "",
  );
  const doFetch = config.fetch ?? fetch;
  const voice = config.voice ?? "en-GB-SoniaNeural";
  const language = config.language ?? "en-GB";

  async function* synthesize(text: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    let resp: Response;
    try {
      resp = await doFetch(`${base}/cognitiveservices/v1`, {
        method: "POST",
        headers: {
          "Ocp-Apim-Subscription-Key": config.apiKey,
          "Content-Type": "application/ssml+xml",
          "X-Microsoft-OutputFormat": "raw-8khz-8bit-mono-mulaw",
          "User-Agent": "edge-voice-agents",
        },
        body: buildSsml(text, voice, language),
        signal: withTimeout(signal, config.timeoutMs ?? 10_000),
      });
    } catch (cause) {
      throw thrownError(PROVIDER, cause, signal);
    }
    if (!resp.ok) throw await responseError(PROVIDER, resp);
    yield* streamBody(PROVIDER, resp, signal);
  }

  function openContext(
    contextId: string,
    contexts: Map<string, () => void>,
    signal?: AbortSignal,
  ): TtsContext {
    const queue = new AsyncQueue<Uint8Array>();
    const abort = new AbortController();
    const combined = signal === undefined ? abort.signal : AbortSignal.any([signal, abort.signal]);
    let buffer = "";
    let chain = Promise.resolve();
    let closed = false;
    const cancel = () => {
      abort.abort();
      queue.discard();
    };
    contexts.set(contextId, cancel);
    signal?.addEventListener("abort", cancel);
    const flush = () => {
      const text = buffer.trim();
      buffer = "";
      if (text.length === 0 || queue.ended) return;
      chain = chain.then(async () => {
        if (queue.ended) return;
        try {
          for await (const chunk of synthesize(text, combined)) queue.push(chunk);
        } catch (error) {
          queue.fail(error);
        }
      });
    };
    return {
      contextId,
      sendText: (text) => {
        if (!closed) buffer += text;
      },
      flush,
      close: () => {
        if (closed) return;
        closed = true;
        flush();
        void chain.then(() => {
          queue.end();
          contexts.delete(contextId);
        });
      },
      audio: queue,
    };
  }

  return {
    provider: PROVIDER,
    synthesize,
    async openSession(): Promise<TtsSession> {
      const contexts = new Map<string, () => void>();
      return {
        speak: (contextId, signal) => openContext(contextId, contexts, signal),
        cancel: (contextId) => {
          contexts.get(contextId)?.();
          contexts.delete(contextId);
        },
        close: async () => {
          for (const cancel of contexts.values()) cancel();
          contexts.clear();
        },
      };
    },
  };
}
