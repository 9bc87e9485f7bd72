/** Deepgram live STT adapter: one WebSocket per call, µ-law 8 kHz in, zod-validated Results/VAD events out. */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import type { SpeechToText, SttConnectOptions, SttEvent, SttStream } from "./ports";
import type { OpenWebSocket, WebSocketLike } from "./websocket";

const PROVIDER = "deepgram";

/** Adapter configuration; `baseUrl` points at the real service or the emulator. */
export interface DeepgramConfig {
  apiKey: string;
  openWebSocket: OpenWebSocket;
  /** Default `wss://api.deepgram.com`. */
  baseUrl?: string;
  /** Default `nova-2`. */
  model?: string;
  connectTimeoutMs?: number;
  /** KeepAlive cadence while no audio flows (Deepgram closes after 10 s idle). Default 4000. */
  keepAliveMs?: number;
  /** How long `close()` waits for the server to close after CloseStream. Default 2000. */
  closeGraceMs?: number;
  smartFormat?: boolean;
}

const word = z.object({ word: z.string(), start: z.number(), end: z.number() }).passthrough();
const alternative = z.object({
  transcript: z.string(),
  confidence: z.number().optional(),
  words: z.array(word).optional(),
});
/** Server messages we act on; anything else is ignored. */
export const deepgramMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("Results"),
    start: z.number(),
    duration: z.number(),
    is_final: z.boolean().optional(),
    speech_final: z.boolean().optional(),
    from_finalize: z.boolean().optional(),
    channel: z.object({ alternatives: z.array(alternative) }),
  }),
  z.object({ type: z.literal("SpeechStarted"), timestamp: z.number() }),
  z.object({ type: z.literal("UtteranceEnd"), last_word_end: z.number() }),
  z.object({ type: z.literal("Metadata") }).passthrough(),
  z.object({ type: z.literal("Error") }).passthrough(),
]);

/** Translate one parsed server message into port events (pure). */
export function toSttEvents(msg: z.infer<typeof deepgramMessage>): SttEvent[] {
  switch (msg.type) {
    case "Results": {
      const alt = msg.channel.alternatives[0];
      const text = alt?.transcript ?? "";
      const startMs = Math.round(msg.start * 1000);
      const endMs = Math.round((msg.start + msg.duration) * 1000);
      if (msg.is_final === true) {
        return [
          {
            type: "final",
            text,
            confidence: alt?.confidence ?? 0,
            speechFinal: msg.speech_final === true,
            fromFinalize: msg.from_finalize === true,
            startMs,
            endMs,
          },
        ];
      }
      return text.length > 0 ? [{ type: "interim", text, startMs, endMs }] : [];
    }
    case "SpeechStarted":
      return [{ type: "speech_started", atMs: Math.round(msg.timestamp * 1000) }];
    case "UtteranceEnd":
      return [{ type: "utterance_end", lastWordEndMs: Math.round(msg.last_word_end * 1000) }];
    case "Error":
      return [{ type: "error", error: new ProviderError(PROVIDER, "server reported an error", undefined) }];
    default:
      return [];
  }
}

/** Build the `/v1/listen` URL from config and per-call options (pure). */
export function deepgramListenUrl(
  config: Pick<DeepgramConfig, "baseUrl" | "model" | "smartFormat">,
  opts: SttConnectOptions,
): string {
  const params = new URLSearchParams({
    model: opts.model ?? config.model ?? "nova-2",
    encoding: "mulaw",
    sample_rate: "8000",
    channels: "1",
    language: opts.language,
    interim_results: "true",
    vad_events: "true",
    endpointing: String(opts.endpointing.silenceMs),
    utterance_end_ms: String(opts.endpointing.utteranceEndMs),
  });
  if (config.smartFormat === true) params.set("smart_format", "true");
  if (opts.tag !== undefined) params.set("tag", opts.tag);
  const base = (config.baseUrl ?? "wss://api.deepgram.com").replace(/\/$/, "");
  return `${base}/v1/listen?${params.toString()}`;
}

/** Close codes Deepgram uses for client mistakes (not worth retrying with the same input). */
function closeError(code: number, reason: string): ProviderError | undefined {
  if (code === 1000) return undefined;
  const retryable = code !== 1008;
  return new ProviderError(PROVIDER, `socket closed ${code} ${reason}`.trim(), undefined, { retryable });
}

class DeepgramStream implements SttStream {
  private readonly listeners = new Set<(e: SttEvent) => void>();
  private lastSendMs = Date.now();
  private closed = false;
  private closing = false;
  private readonly keepAlive: ReturnType<typeof setInterval>;
  private resolveClosed: (() => void) | undefined;
  private readonly closedPromise: Promise<void>;

  constructor(
    private readonly ws: WebSocketLike,
    private readonly keepAliveMs: number,
    private readonly closeGraceMs: number,
    signal: AbortSignal | undefined,
  ) {
    this.closedPromise = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    ws.onMessage((data) => this.handleMessage(data));
    ws.onClose((code, reason) => this.handleClose(code, reason));
    ws.onError(() => undefined);
    this.keepAlive = setInterval(
      () => {
        if (!this.closed && Date.now() - this.lastSendMs >= this.keepAliveMs)
          this.sendText({ type: "KeepAlive" });
      },
      Math.max(250, Math.floor(keepAliveMs / 2)),
    );
    signal?.addEventListener("abort", () => {
      this.ws.close(1000, "aborted");
      this.handleClose(1000, "aborted");
    });
  }

  private emit(e: SttEvent): void {
    for (const l of this.listeners) l(e);
  }

  private sendText(msg: Record<string, unknown>): void {
    if (this.closed) return;
    this.lastSendMs = Date.now();
    this.ws.send(JSON.stringify(msg));
  }

  private handleMessage(data: string | Uint8Array): void {
    if (typeof data !== "string") return;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = deepgramMessage.safeParse(raw);
    if (!parsed.success) return;
    for (const e of toSttEvents(parsed.data)) this.emit(e);
  }

  private handleClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    const err = this.closing && code === 1006 ? undefined : closeError(code, reason);
    if (err !== undefined) this.emit({ type: "error", error: err });
    this.emit({ type: "closed" });
    this.resolveClosed?.();
  }

  sendAudio(mulaw: Uint8Array): void {
    if (this.closed || this.closing || mulaw.byteLength === 0) return;
    this.lastSendMs = Date.now();
    this.ws.send(mulaw);
  }

  finalize(): void {
    if (!this.closing) this.sendText({ type: "Finalize" });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.closing) {
      this.closing = true;
      this.sendText({ type: "CloseStream" });
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeGraceMs);
    });
    await Promise.race([this.closedPromise, grace]);
    clearTimeout(timer);
    if (!this.closed) {
      this.ws.close(1000, "client close");
      this.handleClose(1000, "client close");
    }
  }

  onEvent(cb: (event: SttEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

/** Create the Deepgram STT adapter. */
export function createDeepgramStt(config: DeepgramConfig): SpeechToText {
  return {
    provider: PROVIDER,
    async connect(opts) {
      const url = deepgramListenUrl(config, opts);
      const ws = await config.openWebSocket(
        url,
        { Authorization: `Token ${config.apiKey}` },
        {
          provider: PROVIDER,
          ...(opts.signal ? { signal: opts.signal } : {}),
          timeoutMs: config.connectTimeoutMs ?? 5000,
        },
      );
      return new DeepgramStream(ws, config.keepAliveMs ?? 4000, config.closeGraceMs ?? 2000, opts.signal);
    },
  };
}
