/** Deepgram live STT emulator (Node): `/v1/listen` WebSocket that "recognises" scripted utterances in energy-detected speech. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { EnergySegmenter } from "../providers/mulaw-energy";
import {
  delay,
  MS_PER_CHAR,
  parseJson,
  readBody,
  rejectUpgrade,
  sendJson,
  startServer,
} from "./voice-shared";

/** Options for the Deepgram emulator. */
export interface DeepgramEmulatorOptions {
  port?: number;
  host?: string;
  /** When set, the `Authorization: Token …` key must equal it; otherwise any non-empty key passes. */
  apiKey?: string;
  /** Extra wall-clock delay before each final result. */
  finalDelayMs?: number;
  /** Idle close (no audio, no KeepAlive). Default 10000. */
  idleTimeoutMs?: number;
  /** Connections the control API remembers, oldest forgotten first. Default 1000. */
  maxRecords?: number;
}

/** Faults applied to subsequent connections. */
export interface DeepgramFaults {
  /** Reject the next `handshakeFailures` upgrades (default all) with this HTTP status. */
  handshakeStatus?: number;
  handshakeFailures?: number;
  /** Drop the TCP connection (no close frame) this long after the upgrade. */
  disconnectAfterMs?: number;
}

/** What one connection did, for test assertions. */
export interface DeepgramConnectionRecord {
  requestId: string;
  query: Record<string, string>;
  authorization: string;
  audioBytes: number;
  controlMessages: string[];
  sent: unknown[];
  /** Every final result: the audio time that triggered it and the wall-clock time it left (load tests). */
  finals: EmittedFinal[];
  closeCode?: number;
}

/** A final result as the emulator emitted it. */
export interface EmittedFinal {
  /** Audio time (ms since the stream's first byte) at which the final was decided. */
  audioMs: number;
  /** Wall clock (epoch ms) when the message was written to the socket. */
  sentAtMs: number;
  speechFinal: boolean;
}

/** A running Deepgram emulator. */
export interface DeepgramEmulator {
  url: string;
  wsUrl: string;
  addScript(tag: string, utterances: string[]): void;
  setFaults(faults: DeepgramFaults): void;
  setLatency(latency: { finalDelayMs?: number }): void;
  connections(): DeepgramConnectionRecord[];
  close(): Promise<void>;
}

interface Segment {
  startMs: number;
  endMs: number;
  words: string[];
  expectedMs: number;
  lastInterimMs: number;
  shown: number;
  finalized: boolean;
}

interface SharedState {
  scripts: Map<string, string[]>;
  faults: DeepgramFaults;
  finalDelayMs: number;
  idleTimeoutMs: number;
  records: DeepgramConnectionRecord[];
}

const INTERIM_EVERY_MS = 250;

function wordsPayload(seg: Segment, count: number, endMs: number) {
  const words = seg.words.slice(0, count);
  const span = Math.max(1, endMs - seg.startMs);
  const per = span / Math.max(1, words.length);
  return words.map((w, i) => ({
    word: w.toLowerCase().replace(/[^\p{L}\p{N}'@.:-]/gu, ""),
    start: (seg.startMs + i * per) / 1000,
    end: (seg.startMs + (i + 1) * per) / 1000,
    confidence: 0.98,
    punctuated_word: w,
  }));
}

/** One `/v1/listen` connection: segmentation, results, timers. */
class ListenSession {
  private readonly seg = new EnergySegmenter();
  private segment: Segment | undefined;
  private lastFinalEndMs = 0;
  private pendingUtteranceEndMs: number | undefined;
  private outbox: Promise<void> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly endpointingMs: number | false;
  private readonly utteranceEndMs: number | undefined;
  private readonly interim: boolean;
  private readonly vadEvents: boolean;

  constructor(
    private readonly ws: WebSocket,
    private readonly record: DeepgramConnectionRecord,
    private readonly state: SharedState,
  ) {
    const q = record.query;
    this.endpointingMs = q.endpointing === "false" ? false : Number(q.endpointing ?? "10");
    this.utteranceEndMs = q.utterance_end_ms === undefined ? undefined : Number(q.utterance_end_ms);
    this.interim = q.interim_results === "true";
    this.vadEvents = q.vad_events === "true";
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", (code) => {
      this.closed = true;
      record.closeCode = code;
      clearTimeout(this.idleTimer);
    });
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.closeWith(1011, "NET-0001"), this.state.idleTimeoutMs);
  }

  private send(msg: Record<string, unknown>, delayMs = 0, final?: Omit<EmittedFinal, "sentAtMs">): void {
    this.outbox = this.outbox.then(async () => {
      await delay(delayMs);
      if (this.closed) return;
      this.record.sent.push(msg);
      this.ws.send(JSON.stringify(msg));
      if (final) this.record.finals.push({ ...final, sentAtMs: Date.now() });
    });
  }

  private closeWith(code: number, reason: string): void {
    this.outbox = this.outbox.then(() => {
      if (!this.closed) this.ws.close(code, reason);
    });
  }

  private results(
    seg: Segment | undefined,
    fromMs: number,
    toMs: number,
    count: number,
    flags: Record<string, boolean>,
  ): Record<string, unknown> {
    const words = seg === undefined ? [] : wordsPayload(seg, count, toMs);
    const transcript = words.map((w) => w.punctuated_word).join(" ");
    if (words.length > 0) this.pendingUtteranceEndMs = toMs;
    return {
      type: "Results",
      channel_index: [0, 1],
      duration: (toMs - fromMs) / 1000,
      start: fromMs / 1000,
      ...flags,
      channel: { alternatives: [{ transcript, confidence: words.length > 0 ? 0.97 : 0, words }] },
      metadata: {
        request_id: this.record.requestId,
        model_info: { name: this.record.query.model ?? "nova-3", version: "emulator", arch: "emulator" },
        model_uuid: "00000000-0000-0000-0000-000000000000",
      },
    };
  }

  private emitFinal(speechFinal: boolean, fromFinalize: boolean, nowMs: number): void {
    const seg = this.segment;
    const endMs = seg !== undefined && !seg.finalized ? seg.endMs : nowMs;
    const open = seg !== undefined && !seg.finalized ? seg : undefined;
    const msg = this.results(open, open?.startMs ?? this.lastFinalEndMs, endMs, open?.words.length ?? 0, {
      is_final: true,
      speech_final: speechFinal,
      from_finalize: fromFinalize,
    });
    this.lastFinalEndMs = endMs;
    if (seg !== undefined) seg.finalized = true;
    this.send(msg, this.state.finalDelayMs, { audioMs: nowMs, speechFinal });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.touch();
    if (isBinary) {
      this.record.audioBytes += data.byteLength;
      this.onAudio(new Uint8Array(data));
      return;
    }
    const text = data.toString("utf8");
    this.record.controlMessages.push(text);
    const msg = parseJson(text);
    const type = typeof msg === "object" && msg !== null ? (msg as Record<string, unknown>).type : undefined;
    const now = this.seg.audioMs;
    if (type === "Finalize") {
      this.emitFinal(false, true, now);
    } else if (type === "CloseStream") {
      if (this.segment !== undefined && !this.segment.finalized) this.emitFinal(false, false, now);
      this.send({
        type: "Metadata",
        transaction_key: "deprecated",
        request_id: this.record.requestId,
        sha256: "0".repeat(64),
        created: new Date().toISOString(),
        duration: now / 1000,
        channels: 1,
      });
      this.closeWith(1000, "");
    }
  }

  private onAudio(bytes: Uint8Array): void {
    for (const ev of this.seg.push(bytes)) {
      if (ev.type === "speech_start") {
        const utterance = this.state.scripts.get(this.record.query.tag ?? "")?.shift() ?? "";
        this.segment = {
          startMs: ev.atMs,
          endMs: ev.atMs,
          words: utterance.split(/\s+/).filter((w) => w.length > 0),
          expectedMs: Math.max(1, utterance.length * MS_PER_CHAR),
          lastInterimMs: ev.atMs,
          shown: 0,
          finalized: false,
        };
        if (this.vadEvents) this.send({ type: "SpeechStarted", channel: [0, 1], timestamp: ev.atMs / 1000 });
      } else if (ev.type === "speech_frame") {
        const seg = this.segment;
        if (seg === undefined || seg.finalized) continue;
        seg.endMs = ev.atMs;
        if (this.interim && ev.atMs - seg.lastInterimMs >= INTERIM_EVERY_MS && seg.words.length > 0) {
          seg.lastInterimMs = ev.atMs;
          const progress = (ev.atMs - seg.startMs) / seg.expectedMs;
          const shown = Math.min(seg.words.length, Math.max(1, Math.floor(seg.words.length * progress)));
          if (shown > seg.shown) {
            seg.shown = shown;
            this.send(
              this.results(seg, seg.startMs, ev.atMs, shown, { is_final: false, speech_final: false }),
            );
          }
        }
      } else {
        this.onSilence(ev.atMs, ev.silenceMs);
      }
    }
  }

  private onSilence(nowMs: number, silenceMs: number): void {
    const seg = this.segment;
    if (seg !== undefined && !seg.finalized) {
      const endpoint =
        this.endpointingMs === false ? Math.max(this.utteranceEndMs ?? 0, 500) : this.endpointingMs;
      if (silenceMs >= endpoint) {
        this.emitFinal(this.endpointingMs !== false, false, nowMs);
        this.seg.endSegment();
      }
    } else if (seg?.finalized === true && silenceMs >= 100) {
      this.seg.endSegment();
      this.segment = undefined;
    }
    const ue = this.pendingUtteranceEndMs;
    if (
      this.interim &&
      this.utteranceEndMs !== undefined &&
      ue !== undefined &&
      nowMs - ue >= this.utteranceEndMs
    ) {
      if (this.segment !== undefined && !this.segment.finalized) {
        this.emitFinal(false, false, nowMs);
        this.seg.endSegment();
      }
      this.pendingUtteranceEndMs = undefined;
      this.send({ type: "UtteranceEnd", channel: [0, 1], last_word_end: ue / 1000 });
    }
  }
}

function authKey(req: IncomingMessage): string {
  const h = req.headers.authorization ?? "";
  const m = /^(Token|Bearer)\s+(.+)$/i.exec(h);
  return m?.[2] ?? "";
}

/**
 * Start the Deepgram emulator. Control API: `POST /__emulator/scripts|faults|latency|reset`,
 * `GET /__emulator/requests`, `GET /__emulator/finals?tag=T` (when each final left, for load tests).
 */
export async function startDeepgramEmulator(
  options: DeepgramEmulatorOptions = {},
): Promise<DeepgramEmulator> {
  const state: SharedState = {
    scripts: new Map(),
    faults: {},
    finalDelayMs: options.finalDelayMs ?? 0,
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
    records: [],
  };
  const addScript = (tag: string, utterances: string[]) => {
    state.scripts.set(tag, [...(state.scripts.get(tag) ?? []), ...utterances]);
  };
  const server = await startServer(
    {
      async http(req, res, url) {
        const body = req.method === "POST" ? parseJson(await readBody(req)) : undefined;
        const obj = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
        if (req.method === "POST" && url.pathname === "/__emulator/scripts") {
          const utterances = Array.isArray(obj.utterances)
            ? obj.utterances.filter((u): u is string => typeof u === "string")
            : [];
          addScript(typeof obj.tag === "string" ? obj.tag : "", utterances);
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/faults") {
          state.faults = obj as DeepgramFaults;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/latency") {
          if (typeof obj.finalDelayMs === "number") state.finalDelayMs = obj.finalDelayMs;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/reset") {
          state.scripts.clear();
          state.faults = {};
          state.records.length = 0;
          state.finalDelayMs = options.finalDelayMs ?? 0;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "GET" && url.pathname === "/__emulator/requests") {
          sendJson(res, 200, { connections: state.records });
        } else if (req.method === "GET" && url.pathname === "/__emulator/finals") {
          const tag = url.searchParams.get("tag") ?? "";
          const finals = state.records
            .filter((r) => r.query.tag === tag)
            .flatMap((r) => r.finals)
            .sort((a, b) => a.sentAtMs - b.sentAtMs);
          sendJson(res, 200, { finals });
        } else {
          sendJson(res, 404, { err_code: "NOT_FOUND", err_msg: "Not found", request_id: randomUUID() });
        }
      },
      upgrade(req, socket, head, url, wss) {
        const requestId = randomUUID();
        if (url.pathname !== "/v1/listen") {
          rejectUpgrade(socket, 404, { err_code: "NOT_FOUND", err_msg: "Not found", request_id: requestId });
          return;
        }
        const key = authKey(req);
        if (key === "" || (options.apiKey !== undefined && key !== options.apiKey)) {
          rejectUpgrade(
            socket,
            401,
            { err_code: "INVALID_AUTH", err_msg: "Invalid credentials.", request_id: requestId },
            { "dg-error": "Invalid credentials." },
          );
          return;
        }
        const f = state.faults;
        if (f.handshakeStatus !== undefined && (f.handshakeFailures ?? 1) > 0) {
          if (f.handshakeFailures !== undefined) f.handshakeFailures--;
          rejectUpgrade(socket, f.handshakeStatus, {
            err_code: "INTERNAL_SERVER_ERROR",
            err_msg: "Injected fault",
            request_id: requestId,
          });
          return;
        }
        const query = Object.fromEntries(url.searchParams.entries());
        if (query.encoding !== undefined && query.sample_rate === undefined) {
          rejectUpgrade(socket, 400, {
            err_code: "Bad Request",
            err_msg: "sample_rate is required with encoding",
            request_id: requestId,
          });
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const record: DeepgramConnectionRecord = {
            requestId,
            query,
            authorization: req.headers.authorization ?? "",
            audioBytes: 0,
            controlMessages: [],
            sent: [],
            finals: [],
          };
          state.records.push(record);
          // A long dev session or load run must not grow without bound: keep the newest connections.
          const keep = options.maxRecords ?? 1_000;
          if (state.records.length > keep) state.records.splice(0, state.records.length - keep);
          new ListenSession(ws, record, state);
          if (f.disconnectAfterMs !== undefined) setTimeout(() => ws.terminate(), f.disconnectAfterMs);
        });
      },
    },
    options.port,
    options.host,
  );
  return {
    url: server.url,
    wsUrl: server.wsUrl,
    addScript,
    setFaults: (faults) => {
      state.faults = { ...faults };
    },
    setLatency: (l) => {
      if (l.finalDelayMs !== undefined) state.finalDelayMs = l.finalDelayMs;
    },
    connections: () => state.records,
    close: () => server.close(),
  };
}
