/**
 * Runs a real CallEngine in Node against the local emulators: a Node `CallIO` (timers, in-memory
 * persistence beside the real SQLite outbox, actions through the real integration clients, a
 * pre-fillable utterance cache) and a scripted Twilio peer that streams caller audio in 20 ms frames,
 * plays the agent's audio on a real-time clock, echoes marks and honours `clear`. Shared by the
 * turn-latency bench and reusable by a simulator or load tool (the peer only needs a `send`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_VAD_CONFIG } from "../../audio";
import { CallEngine } from "../../call/engine";
import { getFlow } from "../../call/flows";
import type { CallIO, CallMeta, UtteranceCache } from "../../call/ports";
import { createTimers } from "../../call/timers";
import { parseInboundFrame } from "../../call/twilio-frames";
import { actionRunner, llmPort } from "../../call/wiring";
import { parseConfig } from "../../config/config";
import type { Flow } from "../../flow/schema";
import { renderTemplate } from "../../flow/template";
import type { FlowSnapshot } from "../../flow/types";
import { createLogger, type Logger } from "../../lib/log";
import { createDeepgramStt } from "../../providers/deepgram";
import { createElevenLabsTts } from "../../providers/elevenlabs";
import type { TextToSpeech } from "../../providers/ports";
import { EVENT_TYPES } from "../../store/call-event";
import { PostgresEventStore } from "../../store/event-store";
import { neonConnect } from "../../store/neon";
import { NodeSqlStorage } from "../../store/node-sql-storage";
import { type CallEventInput, Outbox } from "../../store/outbox";
import { flushOutbox } from "../../store/outbox-flush";
import {
  type TurnKind,
  type TurnLatencyRecord,
  type TurnSegments,
  turnKind,
  turnSegments,
} from "../../turn/latency";
import { type EmulatorStack, type EmulatorStackOptions, startEmulatorStack } from "../emulators/stack";
import { openNodeWebSocket } from "../emulators/voice-shared";
import { nodeVadClassifier } from "../simulator/node-vad";
import { ScriptedTwilioPeer } from "./scripted-peer";

export { type PeerFrame, ScriptedTwilioPeer, type TwilioPeerOptions } from "./scripted-peer";

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/audio/", import.meta.url));
const PERSONA = "You are a polite UK phone assistant. Keep any reply under 30 words.";

/** A speech fixture: µ-law 8 kHz audio and where the speech starts in it. */
export interface SpeechFixture {
  name: string;
  text: string;
  audio: Uint8Array;
  onsetMs: number;
}

const ManifestSchema = z.array(
  z.object({ name: z.string(), text: z.string(), file: z.string(), onsetMs: z.number() }),
);

/** Load a fixture of `test/fixtures/audio` by its manifest name. */
export function loadSpeechFixture(name: string): SpeechFixture {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(`${FIXTURES}manifest.json`, "utf8")));
  const entry = manifest.find((m) => m.name === name);
  if (!entry) throw new Error(`unknown speech fixture: ${name}`);
  return { ...entry, audio: new Uint8Array(readFileSync(`${FIXTURES}${entry.file}`)) };
}

/** An in-memory utterance cache (what R2 plus the DO's hot map give a call), with hit counting. */
export interface MemoryUtteranceCache extends UtteranceCache {
  readonly lines: Map<string, Uint8Array>;
  hits: number;
}

/** An empty cache; `backfill` stores lines rendered live, as the R2 cache does. */
export function createMemoryUtteranceCache(lines = new Map<string, Uint8Array>()): MemoryUtteranceCache {
  const cache: MemoryUtteranceCache = {
    lines,
    hits: 0,
    get: async (text) => {
      const hit = lines.get(text) ?? null;
      if (hit) cache.hits++;
      return hit;
    },
    backfill: (text, audio) => {
      lines.set(text, audio);
    },
  };
  return cache;
}

/** Every deterministic (variable-free) line of a flow: what `tts:cache` pre-renders. */
export function cacheableLines(flow: Flow): string[] {
  const out = new Set<string>();
  for (const state of Object.values(flow.states)) {
    for (const text of [state.say, state.ask, state.hold, state.reprompt?.say]) {
      if (text === undefined) continue;
      const r = renderTemplate(text, {});
      if (r.cacheable && r.text !== "") out.add(r.text);
    }
  }
  return [...out];
}

/** A cache pre-filled with every deterministic line of `flow`, rendered by `tts` (the emulator or the real one). */
export async function warmUtteranceCache(flow: Flow, tts: TextToSpeech): Promise<MemoryUtteranceCache> {
  const cache = createMemoryUtteranceCache();
  await Promise.all(
    cacheableLines(flow).map(async (text) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of tts.synthesize(text)) parts.push(chunk);
      const audio = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) {
        audio.set(p, o);
        o += p.length;
      }
      cache.backfill(text, audio);
    }),
  );
  return cache;
}

/** One caller line of the script. A bare string is spoken with the default fixture after the agent finishes. */
export interface CallerLine {
  /** What the emulated Deepgram recognises for this line. */
  text: string;
  /** Fixture name (its onset comes from the manifest) or raw µ-law; default: the call's `speechFixture`. */
  audio?: string | Uint8Array;
  /** Speech onset inside raw `audio`, for barge-in timing. */
  onsetMs?: number;
  /** Talk over the agent once this much of its audio has played, instead of waiting for it to finish. */
  bargeInAfterMs?: number;
  /** Key a DTMF digit instead of speaking. */
  dtmf?: string;
  /** Quiet time after the agent finished before speaking (wall ms). Default 200. */
  gapMs?: number;
}

/** Options of one scripted call. */
export interface ScriptedCallOptions {
  flowId: string;
  vars: Record<string, string>;
  utterances: (string | CallerLine)[];
  /** Default caller audio: a fixture name or raw µ-law. Default "bc-okay". */
  speechFixture?: string | Uint8Array;
  /** "cold": empty cache; "warm": every deterministic line pre-rendered; or a cache to share. */
  cache?: "cold" | "warm" | MemoryUtteranceCache;
  /** Caller audio speed: 1 = real time (20 ms per frame), 8 = eight frames per 20 ms. Default 1. */
  pace?: number;
  /** Agent audio playout speed. Default: `pace`. */
  playbackSpeed?: number;
  /** Emulators to use; otherwise a private stack with `latencies` is started and closed. */
  stack?: EmulatorStack;
  latencies?: EmulatorStackOptions;
  /** Flush the outbox to this Postgres as the DO alarm does (a dead URL measures the outage case). */
  database?: { url: string; wsProxyUrl?: string };
  callSid?: string;
  /** The caller hangs up this long after the script, unless the flow ended first. Default: wait for the flow. */
  hangupAfterMs?: number;
  /** Give up (send `stop`) after this long. Default 60000. */
  maxCallMs?: number;
  log?: Logger;
  /** Wrap the call's ports (instrumentation, fault injection) before the engine sees them. */
  wrapIo?: (io: CallIO) => CallIO;
}

/** One finished turn's latency, as the engine recorded it. */
export interface TurnTiming {
  turn: number;
  kind: TurnKind;
  record: TurnLatencyRecord;
  segments: TurnSegments;
}

/** Barge-in timing measured at the peer, in ms of caller audio (media clock). */
export interface BargeInTiming {
  line: number;
  onsetMediaMs: number;
  clearMediaMs: number | null;
  /** Caller audio between speech onset and the `clear` frame arriving; null when no clear came. */
  reactionMs: number | null;
}

/** What a scripted call produced. */
export interface ScriptedCallResult {
  callSid: string;
  events: CallEventInput[];
  turnRecords: TurnTiming[];
  path: string[];
  snapshot: FlowSnapshot | null;
  frames: ScriptedTwilioPeer["frames"];
  bargeIns: BargeInTiming[];
  hangups: number[];
  transfers: { target: string | undefined; atMs: number }[];
  outbox: { pending: number; flushes: number; failedFlushes: number };
  cacheHits: number;
  timedOut: boolean;
}

const TurnRecordSchema = z.object({
  startMs: z.number(),
  speechEndMs: z.number().optional(),
  sttFinalMs: z.number().optional(),
  endpointMs: z.number().optional(),
  llmFirstTokenMs: z.number().optional(),
  fastPath: z.literal(true).optional(),
  fastPathMs: z.number().optional(),
  ttsFirstByteMs: z.number().optional(),
  cacheHit: z.literal(true).optional(),
  cacheReadyMs: z.number().optional(),
  firstFrameSentMs: z.number().optional(),
  firstFramePlayedMs: z.number().optional(),
});

/** Turn records from `turn.latency` events (the record nested under `record`, or spread in the payload). */
export function turnTimings(events: readonly CallEventInput[]): TurnTiming[] {
  const out: TurnTiming[] = [];
  for (const e of events) {
    if (e.type !== EVENT_TYPES.turnLatency) continue;
    const p = e.payload;
    const parsed = TurnRecordSchema.safeParse(
      typeof p.record === "object" && p.record !== null ? p.record : p,
    );
    if (!parsed.success) continue;
    const record: TurnLatencyRecord = parsed.data;
    out.push({
      turn: Number(p.turn ?? out.length + 1),
      kind: turnKind(record),
      record,
      segments: turnSegments(record),
    });
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const wallMs = () => performance.timeOrigin + performance.now();

/** Place one scripted call through a real CallEngine against the emulators. */
export async function runScriptedCall(options: ScriptedCallOptions): Promise<ScriptedCallResult> {
  const own = options.stack ? null : await startEmulatorStack(options.latencies ?? {});
  const stack = options.stack ?? own;
  if (!stack) throw new Error("no emulator stack");
  try {
    return await runOn(stack, options);
  } finally {
    await own?.close();
  }
}

async function runOn(stack: EmulatorStack, options: ScriptedCallOptions): Promise<ScriptedCallResult> {
  const flow = getFlow(options.flowId);
  if (!flow) throw new Error(`unknown flow: ${options.flowId}`);
  const log = options.log ?? createLogger({ component: "node-call" }, "error");
  const config = parseConfig({ ...stack.env, LOG_LEVEL: "error" });
  const callSid = options.callSid ?? `CA${crypto.randomUUID().replace(/-/g, "")}`;
  const streamSid = `MZ${callSid.slice(2)}`;
  const lines = options.utterances.map((u): CallerLine => (typeof u === "string" ? { text: u } : u));
  const spoken = lines.filter((l) => l.dtmf === undefined).map((l) => l.text);
  const scripted = await fetch(`${stack.urls.deepgram}/__emulator/scripts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tag: callSid, utterances: spoken }),
  });
  if (!scripted.ok) throw new Error(`deepgram emulator script: ${scripted.status}`);

  const tts = createElevenLabsTts({
    apiKey: config.elevenlabs.credential,
    baseUrl: config.elevenlabs.baseUrl,
    voiceId: config.elevenlabs.voiceId,
    modelId: config.elevenlabs.modelId,
    openWebSocket: openNodeWebSocket,
  });
  const cache =
    options.cache === "warm"
      ? await warmUtteranceCache(flow, tts)
      : options.cache === undefined || options.cache === "cold"
        ? createMemoryUtteranceCache()
        : options.cache;
  const hitsBefore = cache.hits;

  // The Durable Object's storage: snapshot row and outbox written in one transaction per persist.
  const storage = new NodeSqlStorage();
  storage.exec("CREATE TABLE call_record (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)");
  const outbox = new Outbox(storage, { log });
  const events: CallEventInput[] = [];
  let snapshot: FlowSnapshot | null = null;
  const flusher = createFlushLoop(outbox, options.database, log);
  const persist = (record: { snapshot: FlowSnapshot } | null, batch: CallEventInput[]) => {
    storage.transactionSync(() => {
      if (record) {
        storage.exec(
          "INSERT INTO call_record (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
          JSON.stringify(record),
        );
      }
      if (batch.length > 0) outbox.appendInTransaction(batch);
    });
    if (record) snapshot = record.snapshot;
    events.push(...batch);
    if (batch.length > 0) flusher.arm(250);
  };

  const meta: CallMeta = {
    callSid,
    streamSid,
    flowId: flow.id,
    direction: flow.direction === "outbound" ? "outbound-api" : "inbound",
    from: "+442071234567",
    to: "+447700900123",
    campaign: null,
    startedAtMs: wallMs(),
  };
  const timers = createTimers();
  const hangups: number[] = [];
  const transfers: ScriptedCallResult["transfers"] = [];
  const io: CallIO = {
    send: (frame) => {
      const text = JSON.stringify(frame);
      setImmediate(() => peer.deliver(text));
    },
    closeMedia: () => undefined,
    persist: (record, batch) => persist(record, batch),
    runAction: actionRunner(
      config,
      {
        callSid,
        calleePhone: meta.to,
        ourNumber: meta.from,
        flowId: meta.flowId,
        campaign: meta.campaign,
        captured: () => ({}),
        log,
      },
      {
        add: async (entry) =>
          persist(null, [
            {
              callSid,
              atMs: wallMs(),
              type: EVENT_TYPES.optOutRecorded,
              payload: { phone: entry.phone, source: entry.source, reason: entry.reason },
            },
          ]),
      },
    ),
    hangup: async () => {
      hangups.push(wallMs());
    },
    transfer: async (target) => {
      transfers.push({ target, atMs: wallMs() });
    },
    stt: createDeepgramStt({
      apiKey: config.deepgram.credential,
      baseUrl: config.deepgram.baseUrl,
      model: config.deepgram.model,
      openWebSocket: openNodeWebSocket,
    }),
    tts,
    llm: llmPort(config, log),
    cache,
    timers,
    nowMs: wallMs,
    log,
  };

  const classifier = await nodeVadClassifier();
  const engine = new CallEngine(
    {
      flow,
      meta,
      vars: options.vars,
      resume: null,
      vadConfig: DEFAULT_VAD_CONFIG,
      models: { fast: config.openai.model, reasoning: config.openai.reasoningModel },
      llmTimeoutMs: config.openai.timeoutMs,
      maxCallDurationMs: config.maxCallDurationMs,
      ...(classifier ? { classifier } : {}),
      persona: PERSONA,
    },
    options.wrapIo ? options.wrapIo(io) : io,
  );
  let stopped: Promise<void> | null = null;
  // The media socket's receiving end, as the Durable Object parses it.
  const receive = (text: string) => {
    const parsed = parseInboundFrame(text);
    if (!parsed.ok) return log.warn("media frame dropped", { reason: parsed.reason });
    const f = parsed.frame;
    if (f.event === "media") engine.onMedia(f.media.payload, f.media.timestamp);
    else if (f.event === "mark") engine.onMark(f.mark.name);
    else if (f.event === "dtmf") engine.onDtmf(f.dtmf.digit);
    else if (f.event === "stop") stopped ??= engine.hangupReceived();
  };
  const pace = options.pace ?? 1;
  const peer = new ScriptedTwilioPeer({
    callSid,
    streamSid,
    send: (text) => setImmediate(() => receive(text)),
    pace,
    playbackSpeed: options.playbackSpeed ?? pace,
    nowMs: wallMs,
  });

  let ended = false;
  const finished = engine.finished.then(() => {
    ended = true;
  });
  const bargeIns: BargeInTiming[] = [];
  let timedOut = false;
  const deadline = wallMs() + (options.maxCallMs ?? 60_000);
  try {
    peer.start({ flow: flow.id, direction: meta.direction });
    await engine.begin();
    peer.startStreaming();
    const defaultAudio = options.speechFixture ?? "bc-okay";
    let transitionsSeen = -1;
    let lastLineAt = wallMs();
    let marksAtLastLine = 0;
    for (const [i, line] of lines.entries()) {
      const gapMs = line.gapMs ?? 200;
      const ready = () => {
        if (line.bargeInAfterMs !== undefined) return peer.playingForMs() >= line.bargeInAfterMs;
        const snap = snapshot;
        if (snap?.phase !== "listening" || peer.idleForMs() < gapMs) return false;
        // The agent replied since the last line (its reply may still be in flight on a busy machine),
        // or a long quiet (the flow ignored that line).
        const replied = i === 0 || peer.marksReceived > marksAtLastLine;
        return (snap.transitions !== transitionsSeen && replied) || wallMs() - lastLineAt > 3_000;
      };
      const ok = await until(() => ended || ready(), deadline);
      if (!ok) timedOut = true;
      if (!ok || ended) break;
      transitionsSeen = (snapshot as FlowSnapshot | null)?.transitions ?? -1;
      if (line.dtmf !== undefined) {
        peer.dtmf(line.dtmf);
      } else {
        const fx = resolveAudio(line.audio ?? defaultAudio, line.onsetMs);
        const { startMediaMs, done } = peer.speak(fx.audio);
        const clearsBefore = peer.frames.length;
        await done;
        if (line.bargeInAfterMs !== undefined) {
          const clear = peer.frames.slice(clearsBefore).find((fr) => fr.event === "clear");
          const onset = startMediaMs + fx.onsetMs;
          const at = clear?.callerMediaMs ?? null;
          bargeIns.push({
            line: i,
            onsetMediaMs: onset,
            clearMediaMs: at,
            reactionMs: at === null ? null : at - onset,
          });
        }
      }
      lastLineAt = wallMs();
      marksAtLastLine = peer.marksReceived;
    }
    if (!timedOut && !ended) {
      const waitUntil = options.hangupAfterMs === undefined ? deadline : wallMs() + options.hangupAfterMs;
      const done = await until(() => ended, waitUntil);
      if (!done && options.hangupAfterMs === undefined) timedOut = true;
    }
    if (!ended) {
      peer.stop();
      await until(() => stopped !== null, wallMs() + 2_000);
      await stopped;
    }
    await Promise.race([finished, sleep(50)]);
  } finally {
    await engine.shutdown();
    peer.close();
    await flusher.stop();
    io.timers.clearAll();
  }
  const result: ScriptedCallResult = {
    callSid,
    events,
    turnRecords: turnTimings(events),
    path: (snapshot as FlowSnapshot | null)?.path ?? [],
    snapshot,
    frames: peer.frames,
    bargeIns,
    hangups,
    transfers,
    outbox: { pending: outbox.size(), flushes: flusher.flushes, failedFlushes: flusher.failed },
    cacheHits: cache.hits - hitsBefore,
    timedOut,
  };
  storage.close();
  return result;
}

function resolveAudio(
  audio: string | Uint8Array,
  onsetMs: number | undefined,
): { audio: Uint8Array; onsetMs: number } {
  if (typeof audio !== "string") return { audio, onsetMs: onsetMs ?? 0 };
  const fx = loadSpeechFixture(audio);
  return { audio: fx.audio, onsetMs: onsetMs ?? fx.onsetMs };
}

/** Poll `predicate` every 5 ms until it holds (true) or `deadlineMs` passes (false). */
async function until(predicate: () => boolean, deadlineMs: number): Promise<boolean> {
  while (!predicate()) {
    if (wallMs() >= deadlineMs) return false;
    await sleep(5);
  }
  return true;
}

/** The DO alarm's flush loop: armed after each persist, retried with the outbox's backoff. */
function createFlushLoop(outbox: Outbox, database: ScriptedCallOptions["database"], log: Logger) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const loop = {
    flushes: 0,
    failed: 0,
    arm(delayMs: number): void {
      if (!database || timer !== null || stopped) return;
      timer = setTimeout(() => {
        running = running.then(async () => {
          const store = new PostgresEventStore(
            neonConnect({
              databaseUrl: database.url,
              wsProxyUrl: database.wsProxyUrl,
              queryTimeoutMs: 2_000,
            }),
            log,
          );
          const r = await flushOutbox(outbox, store, log, { baseMs: 250, capMs: 1_000 });
          loop.flushes++;
          if (r.failed) loop.failed++;
          timer = null;
          if (r.nextDelayMs !== undefined) loop.arm(r.nextDelayMs);
        });
      }, delayMs);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
  return loop;
}
