/** ElevenLabs TTS adapter: one multi-context WebSocket per call (ulaw_8000 out), plus HTTP streaming for cache renders. */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { AsyncQueue } from "./async-queue";
import { base64ToBytes, responseError, streamBody, thrownError, withTimeout } from "./http";
import type { TextToSpeech, TtsContext, TtsSession } from "./ports";
import type { OpenWebSocket, WebSocketLike } from "./websocket";

const PROVIDER = "elevenlabs";

/** Adapter configuration; `baseUrl` (https) points at the real service or the emulator. */
export interface ElevenLabsConfig {
  apiKey: string;
  voiceId: string;
  openWebSocket: OpenWebSocket;
  fetch?: typeof fetch;
  /** Default `https://api.elevenlabs.io`; the WebSocket URL is derived from it. */
  baseUrl?: string;
  /** Default `eleven_flash_v2_5`. */
  modelId?: string;
  voiceSettings?: { stability?: number; similarity_boost?: number; speed?: number };
  /** Lower schedule = earlier first audio at some quality cost. */
  chunkLengthSchedule?: number[];
  connectTimeoutMs?: number;
  /** HTTP synthesize timeout (whole request). Default 15000. */
  timeoutMs?: number;
  /** A flushed context that receives nothing for this long fails as stalled. Default 5000. */
  stallTimeoutMs?: number;
  /** Server-side inactivity close, seconds (API unit). Default 60. */
  inactivityTimeoutSeconds?: number;
}

/** Server messages, tolerant of both spellings of the context id and the final flag. */
const serverMessage = z
  .object({
    audio: z.string().nullable().optional(),
    contextId: z.string().optional(),
    context_id: z.string().optional(),
    isFinal: z.boolean().nullable().optional(),
    is_final: z.boolean().nullable().optional(),
    error: z.unknown().optional(),
    message: z.string().optional(),
    code: z.union([z.number(), z.string()]).optional(),
  })
  .passthrough();

/** Normalised view of one server message (pure). */
export function parseElevenLabsMessage(
  raw: unknown,
):
  | { kind: "audio"; contextId: string | undefined; audio: Uint8Array; final: boolean }
  | { kind: "final"; contextId: string | undefined }
  | { kind: "error"; code: string; message: string }
  | { kind: "ignored" } {
  const parsed = serverMessage.safeParse(raw);
  if (!parsed.success) return { kind: "ignored" };
  const m = parsed.data;
  const contextId = m.contextId ?? m.context_id;
  const final = m.isFinal === true || m.is_final === true;
  if (typeof m.audio === "string" && m.audio.length > 0) {
    return { kind: "audio", contextId, audio: base64ToBytes(m.audio), final };
  }
  if (final) return { kind: "final", contextId };
  if (m.error !== undefined || (m.message !== undefined && m.audio === undefined)) {
    const code = typeof m.error === "string" ? m.error : typeof m.code === "string" ? m.code : "error";
    return { kind: "error", code, message: m.message ?? code };
  }
  return { kind: "ignored" };
}

function httpsBase(config: ElevenLabsConfig): string {
  return (config.baseUrl ?? "https://api.elevenlabs.io").replace(/\/$/, "");
}

interface ContextState {
  queue: AsyncQueue<Uint8Array>;
  watchdog: ReturnType<typeof setTimeout> | undefined;
  awaitingAudio: boolean;
}

class ElevenLabsSession implements TtsSession {
  private readonly contexts = new Map<string, ContextState>();
  /** Contexts we cancelled or finished: any late frame for them is dropped. */
  private readonly dead = new Set<string>();
  private closed = false;
  private resolveClosed: (() => void) | undefined;
  private readonly closedPromise = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(
    private readonly ws: WebSocketLike,
    private readonly config: ElevenLabsConfig,
  ) {
    ws.onMessage((data) => this.onMessage(data));
    ws.onClose((code, reason) => this.onClose(code, reason));
    ws.onError(() => undefined);
  }

  private send(msg: Record<string, unknown>): void {
    if (!this.closed) this.ws.send(JSON.stringify(msg));
  }

  private arm(id: string, state: ContextState): void {
    clearTimeout(state.watchdog);
    if (!state.awaitingAudio) return;
    state.watchdog = setTimeout(() => {
      this.finish(id, new ProviderError(PROVIDER, "audio stalled", undefined, { retryable: true }));
    }, this.config.stallTimeoutMs ?? 5000);
  }

  private finish(id: string, error?: ProviderError): void {
    const state = this.contexts.get(id);
    if (state === undefined) return;
    clearTimeout(state.watchdog);
    this.contexts.delete(id);
    this.dead.add(id);
    if (error === undefined) state.queue.end();
    else state.queue.fail(error);
  }

  private onMessage(data: string | Uint8Array): void {
    if (typeof data !== "string") return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return;
    }
    const msg = parseElevenLabsMessage(raw);
    if (msg.kind === "error") {
      const err = new ProviderError(PROVIDER, `server error ${msg.code}`, undefined, {
        retryable: msg.code === "system_busy" || msg.code === "too_many_concurrent_requests",
      });
      for (const id of [...this.contexts.keys()]) this.finish(id, err);
      return;
    }
    if (msg.kind === "ignored") return;
    const id = msg.contextId ?? [...this.contexts.keys()][0];
    if (id === undefined || this.dead.has(id)) return;
    const state = this.contexts.get(id);
    if (state === undefined) return;
    if (msg.kind === "audio") {
      state.queue.push(msg.audio);
      this.arm(id, state);
    }
    if (msg.kind === "final" || (msg.kind === "audio" && msg.final)) this.finish(id);
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const err =
      this.contexts.size === 0
        ? undefined
        : new ProviderError(PROVIDER, `socket closed ${code} ${reason}`.trim(), undefined, {
            retryable: code !== 1008,
          });
    for (const id of [...this.contexts.keys()]) this.finish(id, err);
    this.resolveClosed?.();
  }

  speak(contextId: string, signal?: AbortSignal): TtsContext {
    if (this.closed) throw new ProviderError(PROVIDER, "session closed", undefined);
    const state: ContextState = { queue: new AsyncQueue(), watchdog: undefined, awaitingAudio: false };
    this.contexts.set(contextId, state);
    this.send({
      text: " ",
      context_id: contextId,
      ...(this.config.voiceSettings ? { voice_settings: this.config.voiceSettings } : {}),
      ...(this.config.chunkLengthSchedule
        ? { generation_config: { chunk_length_schedule: this.config.chunkLengthSchedule } }
        : {}),
    });
    signal?.addEventListener("abort", () => this.cancel(contextId));
    const flush = () => {
      if (!this.contexts.has(contextId)) return;
      this.send({ context_id: contextId, flush: true });
      state.awaitingAudio = true;
      this.arm(contextId, state);
    };
    return {
      contextId,
      sendText: (text) => {
        if (!this.contexts.has(contextId) || text.length === 0) return;
        this.send({ text: text.endsWith(" ") ? text : `${text} `, context_id: contextId });
      },
      flush,
      close: () => {
        if (!this.contexts.has(contextId)) return;
        flush();
        this.send({ context_id: contextId, close_context: true });
      },
      audio: state.queue,
    };
  }

  cancel(contextId: string): void {
    const state = this.contexts.get(contextId);
    this.dead.add(contextId);
    if (state === undefined) return;
    clearTimeout(state.watchdog);
    this.contexts.delete(contextId);
    state.queue.discard();
    this.send({ context_id: contextId, close_context: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.send({ close_socket: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
    if (!this.closed) {
      this.ws.close(1000, "client close");
      this.onClose(1000, "client close");
    }
  }
}

/** Create the ElevenLabs TTS adapter. */
export function createElevenLabsTts(config: ElevenLabsConfig): TextToSpeech {
  const modelId = config.modelId ?? "eleven_flash_v2_5";
  const doFetch = config.fetch ?? fetch;
  return {
    provider: PROVIDER,
    async openSession(signal) {
      const params = new URLSearchParams({
        model_id: modelId,
        output_format: "ulaw_8000",
        inactivity_timeout: String(config.inactivityTimeoutSeconds ?? 60),
      });
      const wsBase = httpsBase(config)
        .replace(/^https:/, "wss:")
        .replace(/^http:/, "ws:");
      const url = `${wsBase}/v1/text-to-speech/${encodeURIComponent(config.voiceId)}/multi-stream-input?${params.toString()}`;
      const ws = await config.openWebSocket(
        url,
        { "xi-api-key": config.apiKey },
        { provider: PROVIDER, ...(signal ? { signal } : {}), timeoutMs: config.connectTimeoutMs ?? 5000 },
      );
      return new ElevenLabsSession(ws, config);
    },
    async *synthesize(text, signal) {
      const url = `${httpsBase(config)}/v1/text-to-speech/${encodeURIComponent(config.voiceId)}/stream?output_format=ulaw_8000`;
      let resp: Response;
      try {
        resp = await doFetch(url, {
          method: "POST",
          headers: { "xi-api-key": config.apiKey, "content-type": "application/json" },
          body: JSON.stringify({
            text,
            model_id: modelId,
            ...(config.voiceSettings ? { voice_settings: config.voiceSettings } : {}),
          }),
          signal: withTimeout(signal, config.timeoutMs ?? 15_000),
        });
      } catch (cause) {
        throw thrownError(PROVIDER, cause, signal);
      }
      if (!resp.ok) throw await responseError(PROVIDER, resp);
      yield* streamBody(PROVIDER, resp, signal);
    },
  };
}
