/**
 * Provider fallbacks behind the same ports: a speech-to-text stream that moves to a second provider when
 * the first fails (the engine keeps one SttStream), and a text-to-speech provider that speaks a line on
 * the fallback when the primary fails before that line's first byte, staying there for a cool-down.
 */
import { ProviderError } from "../lib/errors";
import type {
  SpeechToText,
  SttConnectOptions,
  SttEvent,
  SttStream,
  TextToSpeech,
  TtsContext,
  TtsSession,
} from "./ports";

/** A switch from a primary provider to its fallback, for logs and metrics. */
export interface FallbackSwitch {
  port: "stt" | "tts";
  from: string;
  to: string;
  /** `connect`/`open`: the primary could not be reached; `stream`: it failed mid-call or before a line's audio. */
  stage: "connect" | "open" | "stream";
  error: string;
}

/** Options shared by both fallbacks. */
export interface FallbackOptions {
  /** How long the primary is skipped after it failed before it is tried again. Default 30000. */
  coolDownMs?: number;
  /** Clock for the cool-down. Default `Date.now`. */
  nowMs?: () => number;
  /** Called whenever a request moves to the fallback. */
  onFallback?: (event: FallbackSwitch) => void;
}

/** Audio kept while the STT fallback connects, replayed to it so the caller's words are not lost (8 bytes/ms). */
const STT_REPLAY_MAX_BYTES = 8 * 5_000;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reporter(port: FallbackSwitch["port"], from: string, to: string, options: FallbackOptions) {
  return (stage: FallbackSwitch["stage"], error: unknown) =>
    options.onFallback?.({ port, from, to, stage, error: message(error) });
}

/** Primary health shared by every request through one wrapper: healthy until a failure, then skipped for a cool-down. */
class Health {
  private unhealthyUntilMs = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly coolDownMs: number,
    private readonly nowMs: () => number,
  ) {}
  get healthy(): boolean {
    return this.nowMs() >= this.unhealthyUntilMs;
  }
  markFailed(): void {
    this.unhealthyUntilMs = this.nowMs() + this.coolDownMs;
  }
}

/**
 * Speech-to-text with a fallback. `connect` uses the fallback when the primary cannot connect (or is
 * cooling down after a failure). Mid-call, an `error` event or an unrequested close of the primary
 * stream switches to a freshly connected fallback stream; its events reach the same listeners (times
 * shifted so they stay relative to the start of the call's audio) and the audio sent while it
 * connects is replayed to it. The error that caused the switch is reported through `onFallback`,
 * not to the listeners; if the fallback fails too, its error and `closed` are emitted as usual.
 */
export function withSttFallback(
  primary: SpeechToText,
  fallback: SpeechToText,
  options: FallbackOptions = {},
): SpeechToText {
  const health = new Health(options.coolDownMs ?? 30_000, options.nowMs ?? Date.now);
  const report = reporter("stt", primary.provider, fallback.provider, options);

  return {
    provider: `${primary.provider}+${fallback.provider}`,
    async connect(opts) {
      if (health.healthy) {
        try {
          const stream = await primary.connect(opts);
          return new FallbackSttStream(stream, fallback, opts, () => health.markFailed(), report);
        } catch (error) {
          if (opts.signal?.aborted) throw error;
          health.markFailed();
          report("connect", error);
        }
      }
      return fallback.connect(opts);
    },
  };
}

class FallbackSttStream implements SttStream {
  private readonly listeners = new Set<(e: SttEvent) => void>();
  private current: SttStream;
  private unsubscribe: () => void;
  private onFallback = false;
  /** Set while the fallback connects: audio is kept here and replayed once it is up. */
  private pending: Uint8Array[] | null = null;
  private pendingBytes = 0;
  private sentBytes = 0;
  /** Audio milliseconds sent before the fallback stream started (its clock starts at zero). */
  private offsetMs = 0;
  private closing = false;
  private closedEmitted = false;
  private switching: Promise<void> | null = null;

  constructor(
    primary: SttStream,
    private readonly fallback: SpeechToText,
    private readonly opts: SttConnectOptions,
    private readonly markFailed: () => void,
    private readonly report: (stage: FallbackSwitch["stage"], error: unknown) => void,
  ) {
    this.current = primary;
    this.unsubscribe = primary.onEvent((e) => this.fromPrimary(e));
  }

  private emit(e: SttEvent): void {
    if (e.type === "closed") {
      if (this.closedEmitted) return;
      this.closedEmitted = true;
    }
    for (const l of this.listeners) l(e);
  }

  private fromPrimary(e: SttEvent): void {
    if (this.onFallback) return;
    const failed = e.type === "error" || (e.type === "closed" && !this.closing);
    if (failed && !this.closing && !this.opts.signal?.aborted) {
      this.switchToFallback(
        e.type === "error" ? e.error : new ProviderError("stt", "stream closed", undefined),
      );
      return;
    }
    this.emit(e);
  }

  private fromFallback(e: SttEvent): void {
    this.emit(shift(e, this.offsetMs));
  }

  private switchToFallback(error: unknown): void {
    this.onFallback = true;
    this.markFailed();
    this.report("stream", error);
    this.unsubscribe();
    const failedStream = this.current;
    void failedStream.close().catch(() => undefined);
    this.offsetMs = Math.round(this.sentBytes / 8);
    this.pending = [];
    this.pendingBytes = 0;
    this.switching = this.fallback.connect(this.opts).then(
      (stream) => {
        const buffered = this.pending ?? [];
        this.pending = null;
        this.current = stream;
        this.unsubscribe = stream.onEvent((e) => this.fromFallback(e));
        if (this.closing) {
          void stream.close().catch(() => undefined);
          return;
        }
        for (const chunk of buffered) stream.sendAudio(chunk);
      },
      (fallbackError: unknown) => {
        this.pending = null;
        const err =
          fallbackError instanceof ProviderError
            ? fallbackError
            : new ProviderError(this.fallback.provider, message(fallbackError), undefined);
        this.emit({ type: "error", error: err });
        this.emit({ type: "closed" });
      },
    );
  }

  sendAudio(mulaw: Uint8Array): void {
    if (this.closing) return;
    if (this.pending !== null) {
      if (this.pendingBytes + mulaw.byteLength <= STT_REPLAY_MAX_BYTES) {
        this.pending.push(mulaw.slice());
        this.pendingBytes += mulaw.byteLength;
      }
      return;
    }
    this.sentBytes += mulaw.byteLength;
    this.current.sendAudio(mulaw);
  }

  finalize(): void {
    if (this.pending === null) this.current.finalize();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.switching !== null) await this.switching;
    await this.current.close().catch(() => undefined);
    this.emit({ type: "closed" });
  }

  onEvent(cb: (event: SttEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
}

/** Shift a fallback stream's times onto the call's audio clock (pure). */
function shift(e: SttEvent, offsetMs: number): SttEvent {
  if (offsetMs === 0) return e;
  switch (e.type) {
    case "interim":
    case "final":
      return { ...e, startMs: e.startMs + offsetMs, endMs: e.endMs + offsetMs };
    case "speech_started":
      return { ...e, atMs: e.atMs + offsetMs };
    case "utterance_end":
      return { ...e, lastWordEndMs: e.lastWordEndMs + offsetMs };
    default:
      return e;
  }
}

/**
 * Text-to-speech with a fallback. `openSession` opens the primary's session, or the fallback's when the
 * primary fails (it rejects only when both fail). Each line (context) goes to the primary while it is
 * healthy; when the primary's session cannot be opened, `speak` throws, or the line's audio throws a
 * ProviderError before its first byte, the line is spoken by the fallback from the start (the text sent so
 * far is replayed) and later lines go straight to the fallback until the cool-down has passed, when the
 * primary is tried again with a fresh session. An error after the first byte is not hidden: half a line in
 * one voice and the rest in another is worse than the engine's failure path.
 *
 * `synthesize` (used to pre-render cached lines, which are keyed by the primary's voice) never falls back:
 * a fallback voice must not be stored under the primary's key.
 */
export function withTtsFallback(
  primary: TextToSpeech,
  fallback: TextToSpeech,
  options: FallbackOptions = {},
): TextToSpeech {
  const health = new Health(options.coolDownMs ?? 30_000, options.nowMs ?? Date.now);
  const report = reporter("tts", primary.provider, fallback.provider, options);

  return {
    provider: `${primary.provider}+${fallback.provider}`,
    synthesize: (text, signal) => primary.synthesize(text, signal),
    async openSession(signal) {
      const session = new FallbackTtsSession(primary, fallback, health, report, signal);
      if (!health.healthy) {
        await session.fallbackSession();
        return session;
      }
      try {
        await session.primarySession();
      } catch (error) {
        if (signal?.aborted) throw error;
        health.markFailed();
        report("open", error);
        await session.fallbackSession();
      }
      return session;
    },
  };
}

type Op = { kind: "text"; text: string } | { kind: "flush" } | { kind: "close" };

/** Records what the engine asked of a line so it can be replayed to whichever provider ends up speaking it. */
class LineRecorder {
  readonly ops: Op[] = [];
  target: TtsContext | null = null;

  apply(op: Op): void {
    this.ops.push(op);
    if (this.target !== null) applyOp(this.target, op);
  }

  attach(ctx: TtsContext): void {
    this.target = ctx;
    for (const op of this.ops) applyOp(ctx, op);
  }
}

function applyOp(ctx: TtsContext, op: Op): void {
  if (op.kind === "text") ctx.sendText(op.text);
  else if (op.kind === "flush") ctx.flush();
  else ctx.close();
}

class FallbackTtsSession implements TtsSession {
  private primary: Promise<TtsSession> | null = null;
  private fallback: Promise<TtsSession> | null = null;
  /** Which session speaks each live line, so `cancel` reaches the right provider. */
  private readonly lines = new Map<string, { session: TtsSession | null; cancelled: boolean }>();
  private closed = false;

  constructor(
    private readonly primaryTts: TextToSpeech,
    private readonly fallbackTts: TextToSpeech,
    private readonly health: Health,
    private readonly report: (stage: FallbackSwitch["stage"], error: unknown) => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The primary's (or fallback's) session, opened on first use and again after a failed open. */
  primarySession(): Promise<TtsSession> {
    const p = this.primary ?? this.primaryTts.openSession(this.signal);
    if (p !== this.primary) {
      this.primary = p;
      p.catch(() => {
        if (this.primary === p) this.primary = null;
      });
    }
    return p;
  }

  fallbackSession(): Promise<TtsSession> {
    const p = this.fallback ?? this.fallbackTts.openSession(this.signal);
    if (p !== this.fallback) {
      this.fallback = p;
      p.catch(() => {
        if (this.fallback === p) this.fallback = null;
      });
    }
    return p;
  }

  /** The primary failed: skip it for the cool-down and drop its session so the next try opens a fresh one. */
  private primaryFailed(stage: FallbackSwitch["stage"], error: unknown): void {
    this.health.markFailed();
    this.report(stage, error);
    const old = this.primary;
    this.primary = null;
    if (old !== null) void old.then((s) => s.close()).catch(() => undefined);
  }

  speak(contextId: string, signal?: AbortSignal): TtsContext {
    if (this.closed) throw new ProviderError(this.primaryTts.provider, "session closed", undefined);
    const recorder = new LineRecorder();
    const line: { session: TtsSession | null; cancelled: boolean } = { session: null, cancelled: false };
    this.lines.set(contextId, line);
    const stopped = () => line.cancelled || signal?.aborted === true || this.closed;

    const open = (session: TtsSession): TtsContext | null => {
      if (stopped()) return null;
      line.session = session;
      const ctx = session.speak(contextId, signal);
      recorder.attach(ctx);
      return ctx;
    };

    // Start the primary's line now, not when the audio is first read, so text reaches the provider at once.
    const first: Promise<{ ctx: TtsContext | null } | { error: unknown } | null> = this.health.healthy
      ? this.primarySession().then(
          (session) => ({ ctx: open(session) }),
          (error: unknown) => ({ error }),
        )
      : Promise.resolve(null);
    // `open` may throw (a closed session): that is a primary failure like any other.
    const started = first.catch((error: unknown) => ({ error }));

    let usedFallback = !this.health.healthy;
    const play = async function* (this: FallbackTtsSession): AsyncGenerator<Uint8Array> {
      try {
        const attempt = await started;
        if (attempt !== null) {
          if (stopped()) return;
          let primaryError: unknown;
          let stage: FallbackSwitch["stage"] = "open";
          if ("ctx" in attempt) {
            if (attempt.ctx === null) return;
            let begun = false;
            try {
              for await (const bytes of attempt.ctx.audio) {
                if (stopped()) return;
                begun = true;
                yield bytes;
              }
              return;
            } catch (error) {
              if (begun || stopped() || !(error instanceof ProviderError)) throw error;
              primaryError = error;
              stage = "stream";
              line.session?.cancel(contextId);
            }
          } else {
            primaryError = attempt.error;
          }
          recorder.target = null;
          this.primaryFailed(stage, primaryError);
        }
        usedFallback = true;
        const ctx = open(await this.fallbackSession());
        if (ctx === null) return;
        for await (const bytes of ctx.audio) {
          if (stopped()) return;
          yield bytes;
        }
      } finally {
        if (this.lines.get(contextId) === line) this.lines.delete(contextId);
      }
    }.bind(this);

    const audio = play();
    return {
      contextId,
      sendText: (text) => recorder.apply({ kind: "text", text }),
      flush: () => recorder.apply({ kind: "flush" }),
      close: () => recorder.apply({ kind: "close" }),
      audio: { [Symbol.asyncIterator]: () => audio },
      usedFallback: () => usedFallback,
    };
  }

  cancel(contextId: string): void {
    const line = this.lines.get(contextId);
    if (line === undefined) return;
    line.cancelled = true;
    this.lines.delete(contextId);
    line.session?.cancel(contextId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.lines.keys()]) this.cancel(id);
    const sessions = [this.primary, this.fallback].filter((s): s is Promise<TtsSession> => s !== null);
    this.primary = null;
    this.fallback = null;
    await Promise.all(sessions.map((s) => s.then((x) => x.close()).catch(() => undefined)));
  }
}
