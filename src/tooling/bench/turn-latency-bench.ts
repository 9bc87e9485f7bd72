/**
 * Turn-latency benchmark (Node): whole booking calls through a real CallEngine with the emulators set
 * to the reference budget's midpoints, reporting voice-to-voice latency by segment and our own
 * overhead for live, cached and fast-path turns; barge-in reaction end to end; and the hot path with
 * the event store unreachable versus none. The emulators run in a child process so their CPU work is
 * not counted as ours.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_VAD_CONFIG } from "../../audio";
import { getFlow } from "../../call/flows";
import { parseConfig } from "../../config/config";
import { createElevenLabsTts } from "../../providers/elevenlabs";
import { percentile, type TurnKind } from "../../turn/latency";
import type { EmulatorStack, EmulatorStackOptions } from "../emulators/stack";
import { openNodeWebSocket } from "../emulators/voice-shared";
import {
  type MemoryUtteranceCache,
  runScriptedCall,
  type ScriptedCallOptions,
  type ScriptedCallResult,
  type TurnTiming,
  warmUtteranceCache,
} from "./node-call-harness";

/** One reported figure. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

/** Reference-architecture budget midpoints the emulators are set to (ms). */
export const EMULATED_LATENCY = {
  /** STT partial/final transcripts, 150–350 ms. */
  sttFinalDelayMs: 250,
  /** LLM first token, 250–500 ms. */
  llmFirstTokenMs: 375,
  /** TTS first audio chunk, 80–200 ms. */
  ttsFirstChunkMs: 140,
  /** Calendar API round trip (not in the budget; off the turn's critical path). */
  calendarMs: 100,
} as const;

/** Silence the STT waits for before its final (the call's endpointing setting): provider time by design. */
const ENDPOINTING_SILENCE_MS = DEFAULT_VAD_CONFIG.endpointing.silenceDurationMs;

export interface TurnLatencyBenchOptions {
  /** Booking calls per cache mode (cold, warm). Default 8. */
  calls?: number;
  /** Calls talking over the greeting. Default 5. */
  bargeInCalls?: number;
  /** Calls per event-store condition (none, unreachable). Default 4. */
  storeCalls?: number;
  /** Calls in flight at once (at most 5: one calendar day each). Default 4. */
  concurrency?: number;
}

const FLOW_ID = "outbound-booking";
const VARS = { first_name: "Jo", email: "jo@example.co.uk" };
const BOOKING = ["yes speaking", "yes we are looking at that this quarter", "the first one please"];
/** Speech fixtures (name, what the caller says) used to talk over the greeting. */
const BARGE_IN_FIXTURES = [
  ["book-tuesday", "yes I'd like to book an appointment for Tuesday morning please"],
  ["not-interested", "no thanks I'm not interested at the moment"],
  ["call-back", "could you call me back after five o'clock"],
  ["wait-a-second", "hang on wait a second that's not what I said"],
  ["stop-calling", "please stop calling me"],
] as const;
/** A Postgres nobody listens on: every flush fails to connect. */
const DEAD_DATABASE = { url: "postgres://bench:bench@127.0.0.1:9/bench", wsProxyUrl: "ws://127.0.0.1:9/v2" };

const StackInfoSchema = z.object({
  urls: z.object({
    twilio: z.string(),
    deepgram: z.string(),
    elevenlabs: z.string(),
    openai: z.string(),
    calcom: z.string(),
    hubspot: z.string(),
    slack: z.string(),
    turnstile: z.string(),
  }),
  env: z.record(z.string(), z.string()),
});

/**
 * The emulators in two child processes: the voice providers (Deepgram, ElevenLabs, OpenAI) in one, the
 * business services (Twilio, Cal.com, HubSpot, Slack) in the other, so neither the engine's event loop
 * nor the TTS emulator waits on another emulator's CPU work (Cal.com slot search takes 100s of ms).
 */
export async function startIsolatedEmulatorStack(options: EmulatorStackOptions): Promise<EmulatorStack> {
  const [voice, business] = await Promise.all([
    startChildStack({
      openaiTtftMs: options.openaiTtftMs ?? 0,
      elevenlabsFirstChunkMs: options.elevenlabsFirstChunkMs ?? 0,
      deepgramFinalDelayMs: options.deepgramFinalDelayMs ?? 0,
    }),
    startChildStack({ calcomLatencyMs: options.calcomLatencyMs ?? 0 }),
  ]);
  const voiceEnv = ["DEEPGRAM_BASE_URL", "ELEVENLABS_BASE_URL", "OPENAI_BASE_URL"] as const;
  return {
    urls: {
      ...business.urls,
      deepgram: voice.urls.deepgram,
      elevenlabs: voice.urls.elevenlabs,
      openai: voice.urls.openai,
    },
    env: { ...business.env, ...Object.fromEntries(voiceEnv.map((k) => [k, voice.env[k] ?? ""])) },
    close: async () => {
      await Promise.all([voice.close(), business.close()]);
    },
  };
}

/** Start a whole emulator stack in a child Node process; `close()` ends it. */
async function startChildStack(options: EmulatorStackOptions): Promise<EmulatorStack> {
  const stackUrl = new URL("../emulators/stack.ts", import.meta.url).href;
  const code = [
    `const { startEmulatorStack } = await import(${JSON.stringify(stackUrl)});`,
    `const s = await startEmulatorStack(${JSON.stringify(options)});`,
    `process.stdout.write(JSON.stringify({ urls: s.urls, env: s.env }) + "\\n");`,
    `process.stdin.on("end", () => s.close().then(() => process.exit(0)));`,
    "process.stdin.resume();",
  ].join("\n");
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: fileURLToPath(new URL("../../../", import.meta.url)),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString("utf8");
  });
  const line = await firstLine(child).catch((err: unknown) => {
    child.kill();
    throw new Error(`emulator process failed: ${err instanceof Error ? err.message : String(err)} ${stderr}`);
  });
  const info = StackInfoSchema.parse(JSON.parse(line));
  return {
    ...info,
    close: async () => {
      const exited = once(child, "exit");
      child.stdin?.end();
      const timer = setTimeout(() => child.kill(), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("no stack info within 20 s")), 20_000);
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}

/** Run `count` calls, at most `concurrency` at once; `make` gets the call index and its worker's index. */
async function runMany(
  count: number,
  concurrency: number,
  make: (i: number, worker: number) => ScriptedCallOptions,
): Promise<ScriptedCallResult[]> {
  const results: ScriptedCallResult[] = [];
  let next = 0;
  const worker = async (w: number) => {
    while (next < count) {
      const i = next++;
      const r = await runScriptedCall(make(i, w));
      if (r.timedOut) throw new Error(`bench call ${r.callSid} timed out on path ${r.path.join(">")}`);
      results[i] = r;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, w) => worker(w)));
  return results;
}

/** Concurrent callers ask for different days so they never race for the same calendar slot. */
const PREFERRED_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"];

/**
 * Our own overhead on a turn: voice-to-voice latency minus provider time, where endpointing (VAD
 * speech end to the STT final, a provider-side wait by design) counts as measured and the LLM's
 * first token and the TTS first chunk count as emulated. Undefined when the turn has no first frame.
 */
export function overheadMs(t: TurnTiming): number | undefined {
  const { voiceToVoiceMs, endpointing } = t.segments;
  if (voiceToVoiceMs === undefined || endpointing === undefined) return undefined;
  return (
    voiceToVoiceMs -
    endpointing -
    (t.record.fastPath === true ? 0 : EMULATED_LATENCY.llmFirstTokenMs) -
    (t.record.cacheHit === true ? 0 : EMULATED_LATENCY.ttsFirstChunkMs)
  );
}

/** How to read the figures; the CLI prints it under the table. */
export const TURN_LATENCY_NOTES = [
  "turn_latency.* : whole booking calls (greeting, qualify, book, confirm, close) through a real CallEngine in Node",
  "against the emulators (in child processes), caller audio streamed in real time as 20 ms µ-law frames,",
  "emulated providers at the reference budget midpoints (turn_latency.emulated.*).",
  "Kinds: live = LLM decides + live TTS; cached = LLM decides + cached line; fast_path = no LLM + live TTS;",
  "fast_path_cached = no LLM + cached line. Segments: endpointing = VAD speech end -> STT final (includes the",
  "500 ms endpointing silence and the STT delay), decision = -> LLM first token / fast-path decision,",
  "audio = -> first TTS byte / cached audio ready (for LLM turns this includes the rest of the LLM response),",
  "send = -> first media frame sent. overhead = voice-to-voice - endpointing - emulated LLM first token -",
  "emulated TTS first chunk: the time our own code adds after the caller's turn has ended.",
  "barge_in.* : ms of caller audio between speech onset in the fixture and the `clear` frame reaching Twilio.",
  "hot_path.* : the same warm booking calls with no event store vs an unreachable Postgres being flushed to.",
].join("\n");

const round1 = (v: number) => Math.round(v * 10) / 10;

function stat(name: string, values: number[], p: number, unit = "ms"): BenchResult[] {
  const v = percentile(values, p);
  return v === null ? [] : [{ name, value: round1(v), unit }];
}

/** Segment and overhead figures for one kind of turn. */
function kindFigures(kind: TurnKind, turns: TurnTiming[]): BenchResult[] {
  const of = turns.filter((t) => t.kind === kind);
  const prefix = `turn_latency.${kind}`;
  const out: BenchResult[] = [{ name: `${prefix}.turns`, value: of.length, unit: "turns" }];
  if (of.length === 0) return out;
  const pick = (f: (t: TurnTiming) => number | undefined) =>
    of.flatMap((t) => {
      const v = f(t);
      return v === undefined ? [] : [v];
    });
  const total = pick((t) => t.segments.voiceToVoiceMs);
  out.push(
    ...stat(`${prefix}.voice_to_voice_p50`, total, 50),
    ...stat(`${prefix}.voice_to_voice_p95`, total, 95),
  );
  for (const seg of ["endpointing", "decision", "audio", "send"] as const) {
    const values = pick((t) => t.segments[seg]);
    out.push(...stat(`${prefix}.${seg}_p50`, values, 50), ...stat(`${prefix}.${seg}_p95`, values, 95));
  }
  const overhead = pick(overheadMs);
  out.push(
    ...stat(`${prefix}.overhead_p50`, overhead, 50),
    ...stat(`${prefix}.overhead_p95`, overhead, 95),
    ...stat(`${prefix}.overhead_p99`, overhead, 99),
  );
  return out;
}

function hotPathFigures(label: string, calls: ScriptedCallResult[]): BenchResult[] {
  const turns = calls.flatMap((c) => c.turnRecords);
  const total = turns.flatMap((t) =>
    t.segments.voiceToVoiceMs === undefined ? [] : [t.segments.voiceToVoiceMs],
  );
  const overhead = turns.flatMap((t) => {
    const v = overheadMs(t);
    return v === undefined ? [] : [v];
  });
  return [
    ...stat(`hot_path.${label}.voice_to_voice_p50`, total, 50),
    ...stat(`hot_path.${label}.voice_to_voice_p95`, total, 95),
    ...stat(`hot_path.${label}.overhead_p50`, overhead, 50),
    ...stat(`hot_path.${label}.overhead_p95`, overhead, 95),
  ];
}

/** Run the turn-latency benchmark and return its figures. */
export async function runTurnLatencyBench(options: TurnLatencyBenchOptions = {}): Promise<BenchResult[]> {
  const calls = options.calls ?? 8;
  const bargeInCalls = options.bargeInCalls ?? 5;
  const storeCalls = options.storeCalls ?? 4;
  const concurrency = options.concurrency ?? 4;
  const flow = getFlow(FLOW_ID);
  if (!flow) throw new Error(`unknown flow ${FLOW_ID}`);
  const stack = await startIsolatedEmulatorStack({
    openaiTtftMs: EMULATED_LATENCY.llmFirstTokenMs,
    elevenlabsFirstChunkMs: EMULATED_LATENCY.ttsFirstChunkMs,
    deepgramFinalDelayMs: EMULATED_LATENCY.sttFinalDelayMs,
    calcomLatencyMs: EMULATED_LATENCY.calendarMs,
  });
  try {
    const { elevenlabs } = parseConfig(stack.env);
    const warm: MemoryUtteranceCache = await warmUtteranceCache(
      flow,
      createElevenLabsTts({
        apiKey: elevenlabs.credential,
        baseUrl: elevenlabs.baseUrl,
        voiceId: elevenlabs.voiceId,
        modelId: elevenlabs.modelId,
        openWebSocket: openNodeWebSocket,
      }),
    );
    const booking =
      (cache: ScriptedCallOptions["cache"], extra: Partial<ScriptedCallOptions> = {}) =>
      (_i: number, worker: number): ScriptedCallOptions => ({
        stack,
        flowId: FLOW_ID,
        vars: { ...VARS, preferred_time: PREFERRED_DAYS[worker % PREFERRED_DAYS.length] ?? "" },
        maxCallMs: 40_000,
        utterances: BOOKING,
        cache,
        pace: 1,
        playbackSpeed: 20,
        ...extra,
      });
    // One discarded call warms the process (JIT, ICU time zones, HTTP keep-alive), as a long-lived isolate is.
    await runMany(1, 1, booking("cold"));

    const cold = await runMany(calls, concurrency, booking("cold"));
    const warmCalls = await runMany(calls, concurrency, booking(warm));
    const turns = [...cold, ...warmCalls].flatMap((c) => c.turnRecords);
    const booked = [...cold, ...warmCalls].filter(
      (c) => c.path.at(-1) === "close" && c.path.includes("confirm"),
    );
    const results: BenchResult[] = [
      { name: "turn_latency.emulated.endpointing_silence", value: ENDPOINTING_SILENCE_MS, unit: "ms" },
      { name: "turn_latency.emulated.stt_final_delay", value: EMULATED_LATENCY.sttFinalDelayMs, unit: "ms" },
      { name: "turn_latency.emulated.llm_first_token", value: EMULATED_LATENCY.llmFirstTokenMs, unit: "ms" },
      { name: "turn_latency.emulated.tts_first_chunk", value: EMULATED_LATENCY.ttsFirstChunkMs, unit: "ms" },
      { name: "turn_latency.calls", value: cold.length + warmCalls.length, unit: "calls" },
      { name: "turn_latency.calls_booked", value: booked.length, unit: "calls" },
      { name: "turn_latency.concurrent_calls", value: concurrency, unit: "calls" },
    ];
    for (const kind of ["live", "cached", "fast_path", "fast_path_cached"] as const) {
      results.push(...kindFigures(kind, turns));
    }

    const bargeIns = await runMany(bargeInCalls, concurrency, (i, worker) => {
      const [audio, text] = BARGE_IN_FIXTURES[i % BARGE_IN_FIXTURES.length] ?? BARGE_IN_FIXTURES[0];
      return {
        ...booking("cold")(i, worker),
        utterances: [{ text, audio, bargeInAfterMs: 1_000 }],
        playbackSpeed: 1,
        hangupAfterMs: 300,
      };
    });
    const measured = bargeIns.flatMap((c) => c.bargeIns);
    const e2e = measured.flatMap((b) => (b.reactionMs === null ? [] : [b.reactionMs]));
    const engine = bargeIns.flatMap((c) =>
      c.events.flatMap((e) =>
        e.type === "call.barge_in" && typeof e.payload.reactionMs === "number" ? [e.payload.reactionMs] : [],
      ),
    );
    results.push(
      ...stat("barge_in.e2e_reaction_p50", e2e, 50, "ms caller audio"),
      ...stat("barge_in.e2e_reaction_p95", e2e, 95, "ms caller audio"),
      ...stat("barge_in.engine_reaction_p50", engine, 50, "ms caller audio"),
      { name: "barge_in.missed", value: measured.length - e2e.length, unit: "calls" },
    );

    const none = await runMany(storeCalls, concurrency, booking(warm));
    const down = await runMany(storeCalls, concurrency, booking(warm, { database: DEAD_DATABASE }));
    results.push(
      ...hotPathFigures("db_none", none),
      ...hotPathFigures("db_unreachable", down),
      {
        name: "hot_path.db_unreachable.failed_flushes",
        value: down.reduce((n, c) => n + c.outbox.failedFlushes, 0),
        unit: "flushes",
      },
      {
        name: "hot_path.db_unreachable.outbox_backlog",
        value: down.reduce((n, c) => n + c.outbox.pending, 0),
        unit: "events",
      },
    );
    return results;
  } finally {
    await stack.close();
  }
}
