/** ElevenLabs TTS emulator (Node): multi-context WebSocket and HTTP streaming, deterministic speech-like µ-law output. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebSocket } from "ws";
import {
  delay,
  MS_PER_CHAR,
  parseJson,
  readBody,
  rejectUpgrade,
  sendJson,
  startServer,
  synthesizeSpeech,
} from "./voice-shared";

/** Options for the ElevenLabs emulator. */
export interface ElevenLabsEmulatorOptions {
  port?: number;
  host?: string;
  /** When set, the key must equal it; otherwise any non-empty key passes. */
  apiKey?: string;
  /** Delay before a context's first audio chunk. */
  firstChunkLatencyMs?: number;
  /** Delay between audio chunks. */
  chunkIntervalMs?: number;
  /** Spelling of the per-context final flag (protocols.md says `is_final`, the AsyncAPI says `isFinal`). */
  finalKey?: "is_final" | "isFinal";
}

/** Faults applied to subsequent requests. */
export interface ElevenLabsFaults {
  /** Reject WS upgrades / HTTP requests with this status and `detail.status` code. */
  status?: number;
  code?: string;
  /** How many requests the status fault applies to (default all). */
  failures?: number;
  /** Drop the socket (no close frame) after this many audio chunks on it. */
  disconnectAfterChunks?: number;
  /** Stop sending anything (socket stays open) after this many audio chunks. */
  stallAfterChunks?: number;
}

/** What the emulator received, for assertions. */
export interface ElevenLabsRecord {
  kind: "ws" | "http";
  path: string;
  query: Record<string, string>;
  messages: unknown[];
  chunksSent: number;
}

/** A running ElevenLabs emulator. */
export interface ElevenLabsEmulator {
  url: string;
  setFaults(faults: ElevenLabsFaults): void;
  setLatency(latency: { firstChunkLatencyMs?: number; chunkIntervalMs?: number }): void;
  requests(): ElevenLabsRecord[];
  close(): Promise<void>;
}

interface State {
  faults: ElevenLabsFaults;
  firstChunkLatencyMs: number;
  chunkIntervalMs: number;
  records: ElevenLabsRecord[];
}

const CHARS_PER_CHUNK = 4;
const DEFAULT_SCHEDULE = [120, 160, 250, 290];

/** Audio chunks for a text: each covers a few characters, with chunk-relative alignment. */
function chunksFor(text: string): { audio: Uint8Array; alignment: Record<string, unknown> }[] {
  const out: { audio: Uint8Array; alignment: Record<string, unknown> }[] = [];
  for (let i = 0; i < text.length; i += CHARS_PER_CHUNK) {
    const piece = text.slice(i, i + CHARS_PER_CHUNK);
    const chars = [...piece];
    out.push({
      audio: synthesizeSpeech(piece),
      alignment: {
        chars,
        charStartTimesMs: chars.map((_, k) => k * MS_PER_CHAR),
        charDurationsMs: chars.map(() => MS_PER_CHAR),
      },
    });
  }
  return out;
}

function faultHit(state: State): { status: number; code: string } | undefined {
  const f = state.faults;
  if (f.status === undefined || (f.failures ?? 1) <= 0) return undefined;
  if (f.failures !== undefined) f.failures--;
  return {
    status: f.status,
    code: f.code ?? (f.status === 429 ? "too_many_concurrent_requests" : "internal_error"),
  };
}

interface Ctx {
  buffer: string;
  scheduleIndex: number;
  schedule: number[];
  chain: Promise<void>;
  started: boolean;
  closed: boolean;
}

/** One multi-stream-input socket. */
class MultiSession {
  private readonly contexts = new Map<string, Ctx>();
  private chunks = 0;
  private stalled = false;
  private authed: boolean;

  constructor(
    private readonly ws: WebSocket,
    private readonly record: ElevenLabsRecord,
    private readonly state: State,
    headerAuthed: boolean,
    private readonly apiKey: string | undefined,
    private readonly finalKey: string,
  ) {
    this.authed = headerAuthed;
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.onMessage((data as Buffer).toString("utf8"));
    });
  }

  private sendJson(msg: Record<string, unknown>): void {
    if (!this.stalled && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private generate(id: string, ctx: Ctx, text: string): void {
    if (text.trim().length === 0) return;
    ctx.chain = ctx.chain.then(async () => {
      for (const chunk of chunksFor(text)) {
        await delay(ctx.started ? this.state.chunkIntervalMs : this.state.firstChunkLatencyMs);
        ctx.started = true;
        const f = this.state.faults;
        if (f.disconnectAfterChunks !== undefined && this.chunks >= f.disconnectAfterChunks) {
          this.ws.terminate();
          return;
        }
        if (f.stallAfterChunks !== undefined && this.chunks >= f.stallAfterChunks) this.stalled = true;
        this.chunks++;
        this.record.chunksSent++;
        this.sendJson({
          audio: Buffer.from(chunk.audio).toString("base64"),
          normalizedAlignment: chunk.alignment,
          alignment: chunk.alignment,
          contextId: id,
        });
      }
    });
  }

  private maybeGenerate(id: string, ctx: Ctx, force: boolean): void {
    const threshold = ctx.schedule[Math.min(ctx.scheduleIndex, ctx.schedule.length - 1)] ?? 120;
    if (!force && ctx.buffer.length < threshold) return;
    const text = ctx.buffer;
    ctx.buffer = "";
    if (!force) ctx.scheduleIndex++;
    this.generate(id, ctx, text);
  }

  private closeContext(id: string, ctx: Ctx): void {
    ctx.closed = true;
    ctx.buffer = "";
    ctx.chain = ctx.chain.then(() => this.sendJson({ [this.finalKey]: true, contextId: id }));
    this.contexts.delete(id);
  }

  private onMessage(text: string): void {
    const raw = parseJson(text);
    this.record.messages.push(raw);
    if (typeof raw !== "object" || raw === null) return;
    const m = raw as Record<string, unknown>;
    if (!this.authed) {
      const key =
        typeof m.xi_api_key === "string"
          ? m.xi_api_key
          : typeof m.authorization === "string"
            ? m.authorization
            : "";
      if (key === "" || (this.apiKey !== undefined && key !== this.apiKey)) {
        this.sendJson({ message: "Invalid API key", error: "invalid_api_key", code: 1008 });
        this.ws.close(1008, "invalid_api_key");
        return;
      }
      this.authed = true;
    }
    if (m.close_socket === true) {
      const all: Promise<void>[] = [];
      for (const [id, ctx] of [...this.contexts]) {
        this.maybeGenerate(id, ctx, true);
        this.closeContext(id, ctx);
        all.push(ctx.chain);
      }
      void Promise.all(all).then(() => this.ws.close(1000, ""));
      return;
    }
    const id = typeof m.context_id === "string" ? m.context_id : "default";
    let ctx = this.contexts.get(id);
    if (ctx === undefined) {
      const gen = m.generation_config as { chunk_length_schedule?: unknown } | undefined;
      const schedule = Array.isArray(gen?.chunk_length_schedule)
        ? gen.chunk_length_schedule.filter((n): n is number => typeof n === "number")
        : DEFAULT_SCHEDULE;
      ctx = {
        buffer: "",
        scheduleIndex: 0,
        schedule,
        chain: Promise.resolve(),
        started: false,
        closed: false,
      };
      this.contexts.set(id, ctx);
    }
    if (typeof m.text === "string" && m.text !== " ") ctx.buffer += m.text;
    if (m.close_context === true) {
      this.closeContext(id, ctx);
      return;
    }
    this.maybeGenerate(id, ctx, m.flush === true);
  }
}

function headerKey(req: IncomingMessage): string {
  const h = req.headers["xi-api-key"];
  return typeof h === "string" ? h : "";
}

async function handleStream(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  state: State,
  apiKey: string | undefined,
): Promise<void> {
  const body = parseJson(await readBody(req));
  const record: ElevenLabsRecord = {
    kind: "http",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    messages: [body],
    chunksSent: 0,
  };
  state.records.push(record);
  const key = headerKey(req);
  if (key === "" || (apiKey !== undefined && key !== apiKey)) {
    sendJson(res, 401, { detail: { status: "invalid_api_key", message: "Invalid API key" } });
    return;
  }
  const fault = faultHit(state);
  if (fault !== undefined) {
    sendJson(res, fault.status, { detail: { status: fault.code, message: "Injected fault" } });
    return;
  }
  const text = typeof body === "object" && body !== null ? (body as Record<string, unknown>).text : undefined;
  if (typeof text !== "string") {
    sendJson(res, 422, { detail: [{ type: "missing", loc: ["body", "text"], msg: "Field required" }] });
    return;
  }
  if ((url.searchParams.get("output_format") ?? "mp3_44100_128") !== "ulaw_8000") {
    sendJson(res, 422, {
      detail: { status: "invalid_output_format", message: "Emulator only renders ulaw_8000" },
    });
    return;
  }
  res.writeHead(200, { "content-type": "audio/basic", "transfer-encoding": "chunked" });
  await delay(state.firstChunkLatencyMs);
  for (const chunk of chunksFor(text)) {
    if (res.destroyed) return;
    const f = state.faults;
    if (f.disconnectAfterChunks !== undefined && record.chunksSent >= f.disconnectAfterChunks) {
      res.destroy();
      return;
    }
    if (f.stallAfterChunks !== undefined && record.chunksSent >= f.stallAfterChunks) return;
    res.write(chunk.audio);
    record.chunksSent++;
    await delay(state.chunkIntervalMs);
  }
  res.end();
}

/** Start the ElevenLabs emulator. Control API: `POST /__emulator/faults|latency|reset`, `GET /__emulator/requests`. */
export async function startElevenLabsEmulator(
  options: ElevenLabsEmulatorOptions = {},
): Promise<ElevenLabsEmulator> {
  const state: State = {
    faults: {},
    firstChunkLatencyMs: options.firstChunkLatencyMs ?? 0,
    chunkIntervalMs: options.chunkIntervalMs ?? 0,
    records: [],
  };
  const server = await startServer(
    {
      async http(req, res, url) {
        if (req.method === "POST" && /^\/v1\/text-to-speech\/[^/]+\/stream$/.test(url.pathname)) {
          await handleStream(req, res, url, state, options.apiKey);
          return;
        }
        const body = req.method === "POST" ? parseJson(await readBody(req)) : undefined;
        const obj = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
        if (req.method === "POST" && url.pathname === "/__emulator/faults") {
          state.faults = obj as ElevenLabsFaults;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/latency") {
          if (typeof obj.firstChunkLatencyMs === "number")
            state.firstChunkLatencyMs = obj.firstChunkLatencyMs;
          if (typeof obj.chunkIntervalMs === "number") state.chunkIntervalMs = obj.chunkIntervalMs;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/reset") {
          state.faults = {};
          state.records.length = 0;
          sendJson(res, 200, { ok: true });
        } else if (req.method === "GET" && url.pathname === "/__emulator/requests") {
          sendJson(res, 200, { requests: state.records });
        } else {
          sendJson(res, 404, { detail: { status: "not_found", message: "Not found" } });
        }
      },
      upgrade(req, socket, head, url, wss) {
        if (!/^\/v1\/text-to-speech\/[^/]+\/multi-stream-input$/.test(url.pathname)) {
          rejectUpgrade(socket, 404, { detail: { status: "not_found", message: "Not found" } });
          return;
        }
        const key = headerKey(req);
        if (key !== "" && options.apiKey !== undefined && key !== options.apiKey) {
          rejectUpgrade(socket, 401, { detail: { status: "invalid_api_key", message: "Invalid API key" } });
          return;
        }
        const fault = faultHit(state);
        if (fault !== undefined) {
          rejectUpgrade(socket, fault.status, { detail: { status: fault.code, message: "Injected fault" } });
          return;
        }
        const format = url.searchParams.get("output_format") ?? "mp3_44100_128";
        if (format !== "ulaw_8000") {
          rejectUpgrade(socket, 422, {
            detail: { status: "invalid_output_format", message: "Emulator only renders ulaw_8000" },
          });
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          const record: ElevenLabsRecord = {
            kind: "ws",
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            messages: [],
            chunksSent: 0,
          };
          state.records.push(record);
          new MultiSession(ws, record, state, key !== "", options.apiKey, options.finalKey ?? "is_final");
        });
      },
    },
    options.port,
    options.host,
  );
  return {
    url: server.url,
    setFaults: (f) => {
      state.faults = { ...f };
    },
    setLatency: (l) => {
      if (l.firstChunkLatencyMs !== undefined) state.firstChunkLatencyMs = l.firstChunkLatencyMs;
      if (l.chunkIntervalMs !== undefined) state.chunkIntervalMs = l.chunkIntervalMs;
    },
    requests: () => state.records,
    close: () => server.close(),
  };
}
