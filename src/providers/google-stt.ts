/** Google speech-to-text fallback adapter: local energy endpointing, then `v1/speech:recognize` (MULAW 8000) per utterance. */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { bytesToBase64, responseError, thrownError, withTimeout } from "./http";
import { EnergySegmenter } from "./mulaw-energy";
import type { SpeechToText, SttEvent, SttStream } from "./ports";

const PROVIDER = "google-stt";
/** Audio kept from before speech onset so the first syllable is not clipped. */
const PRE_ROLL_MS = 200;

/** Adapter configuration. */
export interface GoogleSttConfig {
  apiKey: string;
  /** Default `https://speech.googleapis.com`. */
  baseUrl?: string;
  /** Recognition model, e.g. `phone_call`. Omitted when unset. */
  model?: string;
  /** Per-request timeout. Default 5000. */
  timeoutMs?: number;
  /** Longest utterance sent in one request (sync recognize caps at 60 s). Default 15000. */
  maxUtteranceMs?: number;
  fetch?: typeof fetch;
}

const recognizeResponse = z.object({
  results: z
    .array(
      z.object({
        alternatives: z
          .array(z.object({ transcript: z.string().optional(), confidence: z.number().optional() }))
          .optional(),
      }),
    )
    .optional(),
});

/** Create the Google STT adapter. */
export function createGoogleStt(config: GoogleSttConfig): SpeechToText {
  const base = (config.baseUrl ?? "https://speech.googleapis.com").replace(/\/$/, "");
  const doFetch = config.fetch ?? fetch;
  const maxBytes = (config.maxUtteranceMs ?? 15_000) * 8;

  return {
    provider: PROVIDER,
    async connect(opts): Promise<SttStream> {
      const listeners = new Set<(e: SttEvent) => void>();
      const emit = (e: SttEvent) => {
        for (const l of listeners) l(e);
      };
      const seg = new EnergySegmenter();
      const recent: Uint8Array[] = [];
      let utterance: Uint8Array[] = [];
      let utteranceBytes = 0;
      let startMs = 0;
      let active = false;
      let closed = false;
      let inflight = Promise.resolve();

      const recognize = (audio: Uint8Array, fromMs: number, toMs: number, fromFinalize: boolean) => {
        inflight = inflight.then(async () => {
          try {
            const resp = await doFetch(`${base}/v1/speech:recognize`, {
              method: "POST",
              headers: { "x-goog-api-key": config.apiKey, "content-type": "application/json" },
              body: JSON.stringify({
                config: {
                  encoding: "MULAW",
                  sampleRateHertz: 8000,
                  languageCode: opts.language,
                  enableAutomaticPunctuation: true,
                  ...(config.model ? { model: config.model } : {}),
                },
                audio: { content: bytesToBase64(audio) },
              }),
              signal: withTimeout(opts.signal, config.timeoutMs ?? 5000),
            });
            if (!resp.ok) throw await responseError(PROVIDER, resp);
            const parsed = recognizeResponse.safeParse(await resp.json());
            if (!parsed.success)
              throw new ProviderError(PROVIDER, "unexpected response shape", resp.status, {
                retryable: false,
              });
            const alts = (parsed.data.results ?? []).map((r) => r.alternatives?.[0]);
            const text = alts
              .map((a) => a?.transcript?.trim() ?? "")
              .filter((t) => t.length > 0)
              .join(" ");
            const confidence = alts[0]?.confidence ?? 0;
            emit({
              type: "final",
              text,
              confidence,
              speechFinal: !fromFinalize,
              fromFinalize,
              startMs: fromMs,
              endMs: toMs,
            });
            emit({ type: "utterance_end", lastWordEndMs: toMs });
          } catch (error) {
            emit({ type: "error", error: thrownError(PROVIDER, error, opts.signal) });
          }
        });
      };

      const endUtterance = (fromFinalize: boolean) => {
        if (!active) return;
        active = false;
        seg.endSegment();
        const audio = new Uint8Array(utteranceBytes);
        let offset = 0;
        for (const part of utterance) {
          audio.set(part, offset);
          offset += part.byteLength;
        }
        utterance = [];
        utteranceBytes = 0;
        recognize(audio, startMs, seg.audioMs, fromFinalize);
      };

      return {
        sendAudio(mulaw) {
          if (closed) return;
          const events = seg.push(mulaw);
          for (const ev of events) {
            if (ev.type === "speech_start" && !active) {
              active = true;
              startMs = ev.atMs;
              utterance = [...recent];
              utteranceBytes = recent.reduce((n, p) => n + p.byteLength, 0);
              emit({ type: "speech_started", atMs: ev.atMs });
            }
          }
          if (active) {
            utterance.push(mulaw.slice());
            utteranceBytes += mulaw.byteLength;
          } else {
            recent.push(mulaw.slice());
            let kept = recent.reduce((n, p) => n + p.byteLength, 0);
            while (kept > PRE_ROLL_MS * 8 && recent.length > 1) kept -= recent.shift()?.byteLength ?? 0;
          }
          for (const ev of events) {
            if (ev.type === "silence_frame" && active && ev.silenceMs >= opts.endpointing.silenceMs)
              endUtterance(false);
          }
          if (active && utteranceBytes >= maxBytes) endUtterance(false);
        },
        finalize() {
          endUtterance(true);
        },
        async close() {
          if (closed) return;
          endUtterance(true);
          closed = true;
          await inflight;
          emit({ type: "closed" });
        },
        onEvent(cb) {
          listeners.add(cb);
          return () => listeners.delete(cb);
        },
      };
    },
  };
}
