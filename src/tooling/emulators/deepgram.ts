/** Deepgram live STT emulator (Node): `/v1/listen` WebSocket that "recognises" scripted utterances in energy-detected speech. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import {
  type DeepgramConnectionRecord,
  INJECT_KINDS,
  type InjectKind,
  ListenSession,
  type ScriptedUtterance,
  type SessionSettings,
} from "./deepgram-session";
import { parseJson, readBody, rejectUpgrade, sendJson, startServer } from "./voice-shared";

export type {
  DeepgramConnectionRecord,
  EmittedFinal,
  InjectKind,
  ScriptedUtterance,
} from "./deepgram-session";

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
  /**
   * In a long silence with nothing open, an empty final every this many ms of audio, as Deepgram
   * keeps finalising what it is sent (observed behaviour, not in the spec). Default 3000; 0 = never.
   */
  silenceFinalEveryMs?: number;
}

/** Faults applied to subsequent connections. */
export interface DeepgramFaults {
  /** Reject the next `handshakeFailures` upgrades (default all) with this HTTP status. */
  handshakeStatus?: number;
  handshakeFailures?: number;
  /** Drop the TCP connection (no close frame) this long after the upgrade. */
  disconnectAfterMs?: number;
}

/** A running Deepgram emulator. */
export interface DeepgramEmulator {
  url: string;
  wsUrl: string;
  /** Utterances the connection tagged `tag` recognises, one per energy segment, in order. */
  addScript(tag: string, utterances: (string | ScriptedUtterance)[]): void;
  /** Send an awkward message on every open connection tagged `tag`; returns how many got it. */
  inject(tag: string, kind: InjectKind): number;
  setFaults(faults: DeepgramFaults): void;
  setLatency(latency: { finalDelayMs?: number }): void;
  connections(): DeepgramConnectionRecord[];
  close(): Promise<void>;
}

interface SharedState extends SessionSettings {
  faults: DeepgramFaults;
  records: DeepgramConnectionRecord[];
  sessions: Set<ListenSession>;
}

/** A script entry from the control API: text, or text with the awkward shape it should come back in. */
function toUtterance(u: unknown): ScriptedUtterance | undefined {
  if (typeof u === "string") return { text: u };
  if (typeof u !== "object" || u === null) return undefined;
  const o = u as Record<string, unknown>;
  if (typeof o.text !== "string") return undefined;
  const out: ScriptedUtterance = { text: o.text };
  for (const k of ["speechFinal", "splitFinal", "emptyFinalBefore"] as const) {
    if (typeof o[k] === "boolean") out[k] = o[k];
  }
  for (const k of ["interimOnlyMs", "finalDelayMs"] as const) {
    const v = o[k];
    if (typeof v === "number" && v >= 0 && v <= 60_000) out[k] = v;
  }
  return out;
}

function authKey(req: IncomingMessage): string {
  const h = req.headers.authorization ?? "";
  const m = /^(Token|Bearer)\s+(.+)$/i.exec(h);
  return m?.[2] ?? "";
}

/**
 * Start the Deepgram emulator. Control API: `POST /__emulator/scripts|faults|latency|reset|inject`,
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
    silenceFinalEveryMs: options.silenceFinalEveryMs ?? 3_000,
    records: [],
    sessions: new Set(),
  };
  const addScript = (tag: string, utterances: (string | ScriptedUtterance)[]) => {
    const parsed = utterances.map((u) => (typeof u === "string" ? { text: u } : u));
    state.scripts.set(tag, [...(state.scripts.get(tag) ?? []), ...parsed]);
  };
  const inject = (tag: string, kind: InjectKind) => {
    let n = 0;
    for (const s of state.sessions) {
      if (s.isOpen && s.record.query.tag === tag) {
        s.inject(kind);
        n++;
      }
    }
    return n;
  };
  const server = await startServer(
    {
      async http(req, res, url) {
        const body = req.method === "POST" ? parseJson(await readBody(req)) : undefined;
        const obj = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
        if (req.method === "POST" && url.pathname === "/__emulator/scripts") {
          const utterances = Array.isArray(obj.utterances)
            ? obj.utterances.map(toUtterance).filter((u): u is ScriptedUtterance => u !== undefined)
            : [];
          addScript(typeof obj.tag === "string" ? obj.tag : "", utterances);
          sendJson(res, 200, { ok: true });
        } else if (req.method === "POST" && url.pathname === "/__emulator/inject") {
          const kind = obj.kind;
          if (typeof kind !== "string" || !(INJECT_KINDS as readonly string[]).includes(kind)) {
            sendJson(res, 400, { error: `kind must be one of ${INJECT_KINDS.join(", ")}` });
          } else {
            const tag = typeof obj.tag === "string" ? obj.tag : "";
            sendJson(res, 200, { connections: inject(tag, kind as InjectKind) });
          }
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
          const session = new ListenSession(ws, record, state);
          state.sessions.add(session);
          ws.on("close", () => state.sessions.delete(session));
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
    inject,
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
