/**
 * One whole call through the real CallEngine on a virtual clock: a generated {@link Scenario} plays
 * the outside world (Twilio's phone, AMD and status callbacks, Deepgram's messages, TTS and LLM faults,
 * the caller's words and timing) and the run returns a {@link CallTrace} of everything observable, for
 * the invariants to judge. No network, no real waiting: a two-minute call runs in milliseconds.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  bytesToBase64,
  DEFAULT_VAD_CONFIG,
  dbfs,
  FRAME_BYTES,
  MULAW_SILENCE,
  mulawToPcm,
  pcmToMulaw,
} from "../../../audio";
import { whiteNoise } from "../../../audio/signals";
import { callEndedEvent, closeStoredCall } from "../../../call/call-status";
import { CallEngine } from "../../../call/engine";
import { getFlow } from "../../../call/flows";
import { ORPHAN_END_SILENCE_MS } from "../../../call/listener";
import type { CallIO, CallMeta, CallRecord, UtteranceCache } from "../../../call/ports";
import type { Flow } from "../../../flow/schema";
import { renderTemplate } from "../../../flow/template";
import type { ActionResult } from "../../../integrations/actions";
import { createLogger, type LogFields, type LogLevel } from "../../../lib/log";
import type { DecisionRequest, SttEvent } from "../../../providers/ports";
import type { CallEvent } from "../../../store/call-event";
import { nodeVadClassifier } from "../node-vad";
import { VirtualClock } from "./clock";
import { type PlayedLine, VirtualPhone } from "./phone";
import { LineCodes, VirtualLlm, VirtualStt, VirtualTts } from "./providers";
import { CALLER_SAYS, type CallerAct, type CallerWords, type Scenario, type SttShape } from "./scenario";

const START_MS = Date.parse("2026-12-07T10:00:00Z");
export const VIRTUAL_MAX_CALL_MS = 120_000;
const SLOT_1 = "2026-12-08T10:00:00.000Z";
const SLOT_2 = "2026-12-08T14:30:00.000Z";

/** A caller turn as STT ended it (the words the engine was given), or a keyed digit. */
export interface TurnEnd {
  atMs: number;
  text: string;
  /** The call's flow was listening and no agent audio was queued at the phone when the turn ended. */
  questionHeard: boolean;
  state: string;
  /** The flow was still active (not ended) when the turn ended. */
  active: boolean;
}

/** Everything observable about one virtual call. */
export interface CallTrace {
  scenario: Scenario;
  flow: Flow;
  events: CallEvent[];
  record: CallRecord | null;
  lines: PlayedLine[];
  clears: number[];
  markNames: string[];
  overlaps: VirtualPhone["overlaps"];
  badFrames: string[];
  turnEnds: TurnEnd[];
  /** Caller speech runs (onset to last voiced frame), virtual ms. */
  speech: { startMs: number; endMs: number; words: string }[];
  amdDelivered: { atMs: number; answeredBy: string }[];
  /** Keys the caller pressed. */
  dtmf: { atMs: number; digit: string }[];
  /** When the call's Durable Object instance died and a new one resumed. */
  restarts: { atMs: number; kind: "evict" | "reconnect" }[];
  hangups: number[];
  transfers: number[];
  callerHungUpAtMs: number | null;
  endedAtMs: number | null;
  finishedReason: string | null;
  logs: { level: LogLevel; msg: string; fields: LogFields }[];
  errors: unknown[];
  startMs: number;
  maxCallDurationMs: number;
}

/** The fake model: what a sensible classifier would say for the caller's words in a state. */
function classify(text: string, request: DecisionRequest): { branch: string; reply?: string } {
  const names = request.state.branches.map((b) => (typeof b === "string" ? b : b.name));
  const has = (b: string) => names.includes(b);
  const t = text.toLowerCase();
  const pick = (...options: string[]) => options.find(has);
  let branch: string | undefined;
  if (t.includes("stop calling")) branch = pick("opt_out");
  else if (t.includes("looking at")) branch = pick("positive", "yes", "time_given", "ready", "available");
  else if (t.includes("first one")) branch = pick("slot_selected", "positive", "yes");
  else if (t.startsWith("yes")) branch = pick("yes", "positive", "available", "ready");
  else if (t.startsWith("no")) branch = pick("no", "negative", "not_available", "decline");
  // Words that answer nothing: the model says so, or names no branch of this state (the flow's no_match).
  branch ??= pick("unclear", "unknown", "clarify") ?? "no_match";
  return { branch, reply: "Sure, no problem." };
}

const FIXTURES = fileURLToPath(new URL("../../../../test/fixtures/audio/", import.meta.url));
/** Recorded speech (espeak-ng) for each kind of caller words: the VAD hears real speech, STT gives the words. */
const SPEECH_FIXTURE: Record<CallerWords, readonly string[]> = {
  yes: ["bc-okay"],
  no: ["not-interested"],
  positive: ["book-tuesday"],
  slot: ["call-back"],
  optout: ["stop-calling"],
  backchannel: ["bc-mm-hm"],
  hello: ["bc-yeah"],
  hesitation: ["wait-a-second"],
  mailbox: ["book-tuesday", "call-back"],
  robot: ["wait-a-second"],
  who: ["bc-uh-huh"],
};
const fixtureCache = new Map<string, Uint8Array>();

function fixtureAudio(name: string): Uint8Array {
  let audio = fixtureCache.get(name);
  if (!audio) {
    audio = new Uint8Array(readFileSync(`${FIXTURES}${name}.ulaw`));
    fixtureCache.set(name, audio);
  }
  return audio;
}

/**
 * Where the caller is actually talking in `audio`: frames above the VAD's noise gate, with pauses shorter
 * than the VAD's max pause joined (what the product can know of "still talking"), in ms from the start.
 */
export function voicedRuns(audio: Uint8Array): { startMs: number; endMs: number }[] {
  const runs: { startMs: number; endMs: number }[] = [];
  const { noiseGateDb, maxPauseMs } = DEFAULT_VAD_CONFIG.vad;
  for (let o = 0, t = 0; o + FRAME_BYTES <= audio.length; o += FRAME_BYTES, t += 20) {
    if (dbfs(mulawToPcm(audio.subarray(o, o + FRAME_BYTES))) < noiseGateDb) continue;
    const last = runs[runs.length - 1];
    if (last && t - last.endMs < maxPauseMs) last.endMs = t + 20;
    else runs.push({ startMs: t, endMs: t + 20 });
  }
  return runs;
}

/** The caller's audio for `words`: recorded speech, whole frames, leading silence trimmed to 20 ms. */
function callerAudio(words: CallerWords): Uint8Array {
  const parts = SPEECH_FIXTURE[words].map((n) => fixtureAudio(n));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(Math.ceil(total / FRAME_BYTES) * FRAME_BYTES).fill(MULAW_SILENCE);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Run one scenario to the end of the call. */
export async function runVirtualCall(
  scenario: Scenario,
  options: { flowId?: string; maxCallDurationMs?: number } = {},
): Promise<CallTrace> {
  const flow = getFlow(options.flowId ?? "outbound-booking");
  if (!flow) throw new Error(`unknown flow ${options.flowId}`);
  const maxCallDurationMs = options.maxCallDurationMs ?? VIRTUAL_MAX_CALL_MS;
  const clock = new VirtualClock(START_MS);
  const codes = new LineCodes();
  const stt = new VirtualStt(clock);
  const tts = new VirtualTts(clock, codes, scenario.ttsFaults);
  const llm = new VirtualLlm(clock, classify, scenario.llmFaults);
  const logs: CallTrace["logs"] = [];
  const log = createLogger({}, "info", (level, msg, fields) => logs.push({ level, msg, fields }));
  const events = new Map<string, CallEvent>();
  let seq = 0;
  let record: CallRecord | null = null;
  const trace: CallTrace = {
    scenario,
    flow,
    events: [],
    record: null,
    lines: [],
    clears: [],
    markNames: [],
    overlaps: [],
    badFrames: [],
    turnEnds: [],
    speech: [],
    amdDelivered: [],
    dtmf: [],
    restarts: [],
    hangups: [],
    transfers: [],
    callerHungUpAtMs: null,
    endedAtMs: null,
    finishedReason: null,
    logs,
    errors: clock.errors,
    startMs: START_MS,
    maxCallDurationMs,
  };

  const lines = new Map<string, Uint8Array>();
  if (scenario.warmCache) {
    for (const state of Object.values(flow.states)) {
      for (const text of [state.say, state.ask, state.hold, state.reprompt?.say]) {
        if (text === undefined) continue;
        const r = renderTemplate(text, {});
        if (r.cacheable && r.text !== "") lines.set(r.text, codes.audio(r.text));
      }
    }
  }
  const cache: UtteranceCache = {
    get: async (text) => lines.get(text) ?? null,
    backfill: (text, audio) => {
      lines.set(text, audio);
    },
  };

  const meta: CallMeta = {
    callSid: "CAvirtual0000000000000000000000000",
    streamSid: "MZvirtual000000000000000000000000",
    flowId: flow.id,
    direction: "outbound-api",
    from: "+442071234567",
    to: "+447700900123",
    campaign: null,
    startedAtMs: START_MS,
  };

  // The engine of the call's current Durable Object instance (marks echo into it).
  let engine: CallEngine | null = null;
  const phone = new VirtualPhone(clock, codes, scenario.marks, (mark) => engine?.onMark(mark));
  let streamOpen = true;
  let callOver = false;

  const persist = (
    rec: CallRecord | null,
    batch: readonly {
      id?: string;
      type: string;
      atMs: number;
      payload: Record<string, unknown>;
      callSid: string;
    }[],
  ) => {
    if (rec) record = structuredClone(rec);
    for (const e of batch) {
      const id = e.id ?? `ev${seq}`;
      if (events.has(id)) continue;
      events.set(id, {
        id,
        callSid: e.callSid,
        seq: seq++,
        type: e.type,
        atMs: e.atMs,
        payload: structuredClone(e.payload),
      });
    }
  };

  const statusCallbacks = (beforeStop: boolean) => {
    const n = scenario.statusCallbacks.count;
    for (let i = 0; i < n; i++) {
      if (scenario.statusCallbacks.beforeStop !== beforeStop && i === 0) continue;
      clock.after(50 + i * 700, () => {
        const ended = callEndedEvent(meta.callSid, "completed", 42, record?.snapshot, clock.nowMs());
        if (ended) persist(null, [ended]);
        if (restarting) {
          // As the Durable Object: no instance runs the call, so the stored flow is closed here.
          const closed = record ? closeStoredCall(record, flow, clock.nowMs()) : null;
          if (closed) persist(closed.record, closed.events);
          callOver = true;
          return;
        }
        void engine?.hangupReceived().then(() => {
          callOver = true;
        });
      });
    }
  };

  /** Twilio ends the media stream (hang-up, transfer): `stop`, then the status callbacks. */
  const streamStops = () => {
    if (!streamOpen) return;
    streamOpen = false;
    trace.endedAtMs = clock.nowMs();
    phone.hangUp();
    statusCallbacks(true);
    void engine?.hangupReceived().then(() => {
      statusCallbacks(false);
      callOver = true;
    });
  };

  const actions = async (name: string, params: Record<string, string>): Promise<ActionResult> => {
    await clock.sleep(scenario.actionMs);
    switch (name) {
      case "cal.com:propose_slots":
        return { ok: true, data: { slot_1: SLOT_1, slot_2: SLOT_2 } };
      case "cal.com:create_booking":
        return { ok: true, data: { booked_start: params.start ?? SLOT_1 } };
      case "transfer_to_human":
        return { ok: false, error: "nobody free", retryable: false };
      default:
        return { ok: true, data: {} };
    }
  };

  /**
   * One instance of the call's Durable Object: its engine, timers and sockets die with it (eviction or
   * a dropped media socket); the next instance resumes from the last record it stored.
   */
  let generation = 0;
  const buildEngine = async (resume: CallRecord | null): Promise<CallEngine> => {
    const gen = ++generation;
    const alive = () => gen === generation;
    const named = clock.timers();
    const io: CallIO = {
      send: (frame) => {
        if (alive()) phone.receive(frame);
      },
      closeMedia: () => {
        if (alive()) streamStops();
      },
      persist: (rec, batch) => {
        if (alive()) persist(rec, batch);
      },
      runAction: (name, params) => actions(name, params),
      hangup: async () => {
        if (!alive()) return;
        trace.hangups.push(clock.nowMs());
        clock.after(150, streamStops);
      },
      transfer: async () => {
        if (!alive()) return;
        trace.transfers.push(clock.nowMs());
        clock.after(150, streamStops);
      },
      stt,
      tts,
      llm,
      cache,
      timers: {
        set: (name, delayMs, fn) =>
          named.set(name, delayMs, () => {
            if (alive()) fn();
          }),
        clear: (name) => named.clear(name),
        clearAll: () => named.clearAll(),
        after: (delayMs, fn) =>
          clock.after(delayMs, () => {
            if (alive()) fn();
          }),
      },
      nowMs: () => clock.nowMs(),
      log,
    };
    const classifier = await nodeVadClassifier();
    const e = new CallEngine(
      {
        flow,
        meta,
        vars: { first_name: "Ada", email: "ada@example.co.uk" },
        resume: resume?.snapshot ?? null,
        ...(resume ? { resumeProgress: resume.progress } : {}),
        vadConfig: DEFAULT_VAD_CONFIG,
        models: { fast: "fast-model", reasoning: "reasoning-model" },
        llmTimeoutMs: 2_500,
        maxCallDurationMs,
        persona: "You are a polite UK phone assistant.",
        // The Durable Object's own frame classifier (WebRTC VAD), so barge-in and speech timing are the product's.
        ...(classifier ? { classifier } : {}),
      },
      io,
    );
    void e.finished.then((reason) => {
      if (alive()) trace.finishedReason = reason;
    });
    return e;
  };
  engine = await buildEngine(null);
  let current: CallEngine = engine;

  let restarting = false;
  let pendingAmd: string | null = null;
  /** The instance dies mid-call: evicted (the media socket survives) or its socket dropped (Twilio reconnects). */
  const restart = async (kind: "evict" | "reconnect") => {
    if (!streamOpen || record === null) return;
    trace.restarts.push({ atMs: clock.nowMs(), kind });
    const old = current;
    restarting = true;
    generation++; // the old instance's timers, sends and writes stop here
    pendingWords = []; // words of an unfinished turn lived in the old instance's memory (and its STT socket)
    void stt.current?.close();
    if (kind === "reconnect") {
      await old.shutdown().catch(() => undefined);
      phone.newStream();
      mediaMs = 0;
      await clock.sleep(300);
      if (!streamOpen) {
        restarting = false;
        return;
      }
    }
    const stored = record as CallRecord | null;
    // As the Durable Object's wake: an ended call is only resumed to finish its hang-up or transfer.
    if (stored === null || (stored.snapshot.status === "ended" && stored.progress.control?.done !== false))
      return;
    current = await buildEngine(stored);
    engine = current;
    restarting = false;
    void current.begin();
    if (pendingAmd !== null) current.onAmd(pendingAmd);
    pendingAmd = null;
  };

  // ---- The caller's line: one 20 ms frame every 20 ms while the stream is open.
  let audio: Uint8Array = new Uint8Array(0);
  let audioPos = 0;
  let mediaMs = 0;
  const silenceFrame = new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE);
  const tick = () => {
    if (!streamOpen) return;
    let frame: Uint8Array = silenceFrame;
    if (audioPos + FRAME_BYTES <= audio.length) {
      frame = audio.subarray(audioPos, audioPos + FRAME_BYTES);
      audioPos += FRAME_BYTES;
    }
    current.onMedia(bytesToBase64(frame), mediaMs);
    mediaMs += 20;
    clock.after(20, tick);
  };

  // ---- Deepgram's side: messages on the current stream, with the listener's turn logic mirrored.
  let pendingWords: string[] = [];
  /** The words heard so far end a caller turn now (what the listener hands the engine). */
  const endTurn = (atMs: number) => {
    const snap = current.state;
    trace.turnEnds.push({
      atMs,
      text: pendingWords.join(" "),
      questionHeard: snap.status === "active" && snap.phase === "listening" && !phone.busy,
      state: snap.state,
      active: snap.status === "active",
    });
    pendingWords = [];
  };
  const emit = (e: SttEvent) => {
    const s = stt.current;
    if (!s || !streamOpen) return;
    const now = clock.nowMs();
    if (e.type === "final" && e.text.trim()) pendingWords.push(e.text.trim());
    const ends = (e.type === "final" && e.speechFinal) || e.type === "utterance_end";
    if (ends && pendingWords.length > 0) endTurn(now);
    s.emit(e);
  };
  const at = (delayMs: number, e: () => SttEvent) => clock.after(delayMs, () => emit(e()));

  const final = (text: string, speechFinal: boolean, startMs: number, endMs: number): SttEvent => ({
    type: "final",
    text,
    confidence: 0.93,
    speechFinal,
    fromFinalize: false,
    startMs,
    endMs,
  });

  const speak = (words: CallerWords, shape: SttShape) => {
    const text = CALLER_SAYS[words];
    const pcm = callerAudio(words);
    audio = pcm;
    audioPos = 0;
    const durMs = Math.ceil(pcm.length / FRAME_BYTES) * 20;
    const t0 = clock.nowMs();
    for (const run of voicedRuns(pcm))
      trace.speech.push({ startMs: t0 + run.startMs, endMs: t0 + run.endMs, words: text });
    const ep = stt.current?.options.endpointing ?? { silenceMs: 500, utteranceEndMs: 1000 };
    const wordsOf = text.split(" ");
    at(80, () => ({ type: "speech_started", atMs: mediaMs }));
    for (let i = 1; i * 300 < durMs; i++) {
      const upTo = Math.max(1, Math.round((wordsOf.length * i * 300) / durMs));
      at(i * 300, () => ({
        type: "interim",
        text: wordsOf.slice(0, upTo).join(" "),
        startMs: 0,
        endMs: i * 300,
      }));
    }
    const end = durMs;
    switch (shape) {
      case "speech_final":
        at(end + ep.silenceMs, () => final(text, true, 0, end));
        break;
      case "final_then_utterance_end":
        at(end + ep.silenceMs, () => final(text, false, 0, end));
        at(end + ep.utteranceEndMs, () => ({ type: "utterance_end", lastWordEndMs: end }));
        break;
      case "speech_final_and_utterance_end":
        at(end + ep.silenceMs, () => final(text, true, 0, end));
        at(end + ep.utteranceEndMs, () => ({ type: "utterance_end", lastWordEndMs: end }));
        break;
      case "split_finals": {
        const half = Math.max(1, Math.floor(wordsOf.length / 2));
        if (wordsOf.length > 1) {
          at(Math.round(end / 2) + 100, () => final(wordsOf.slice(0, half).join(" "), false, 0, end / 2));
          at(end + ep.silenceMs, () => final(wordsOf.slice(half).join(" "), true, end / 2, end));
        } else at(end + ep.silenceMs, () => final(text, true, 0, end));
        break;
      }
      case "late_final":
        at(end + ep.silenceMs + 1_200, () => final(text, true, 0, end));
        break;
      case "interims_only":
        // Words were heard but none were sure enough: an empty final, then the utterance end.
        at(end + ep.silenceMs, () => final("", false, 0, end));
        at(end + ep.utteranceEndMs, () => ({ type: "utterance_end", lastWordEndMs: end }));
        break;
    }
    return durMs;
  };

  const noise = () => {
    // Line noise under the VAD's gate: Deepgram's own VAD still fires, and no words come.
    audio = pcmToMulaw(whiteNoise(600, -58, 11));
    audioPos = 0;
    at(60, () => ({ type: "speech_started", atMs: mediaMs }));
    at(900, () => final("", true, 0, 600));
    return 600;
  };

  // ---- The caller, acting in turn.
  const waitUntil = async (cond: () => boolean, timeoutMs: number) => {
    const deadline = clock.nowMs() + timeoutMs;
    while (!cond() && clock.nowMs() < deadline && streamOpen) await clock.sleep(20);
  };
  const performAct = async (act: CallerAct, prevEndMs: number) => {
    const t = act.timing;
    if (t.kind === "after_agent") {
      // A person answers what the agent said next: wait for a new line, then for it to finish.
      let quietSince = clock.nowMs();
      await waitUntil(() => {
        if (phone.busy) quietSince = clock.nowMs();
        const spoke = phone.lines.some((l) => l.firstFrameAtMs > prevEndMs);
        return spoke && clock.nowMs() - quietSince >= t.gapMs && clock.nowMs() >= prevEndMs;
      }, 20_000);
    } else if (t.kind === "barge") {
      await waitUntil(
        () =>
          phone.busy && phone.lines.some((l) => l.firstFrameAtMs > prevEndMs) && clock.nowMs() >= prevEndMs,
        20_000,
      );
      await clock.sleep(t.intoMs);
    } else {
      await clock.sleep(Math.max(0, prevEndMs - clock.nowMs()) + t.delayMs);
    }
    if (!streamOpen) return clock.nowMs();
    if (act.kind === "dtmf") {
      trace.dtmf.push({ atMs: clock.nowMs(), digit: act.digit });
      current.onDtmf(act.digit);
      return clock.nowMs();
    }
    const dur = act.kind === "noise" ? noise() : speak(act.words, act.stt);
    return clock.nowMs() + dur;
  };
  const caller = async () => {
    let prevEnd = clock.nowMs();
    for (const act of scenario.acts) {
      if (!streamOpen) return;
      prevEnd = await performAct(act, prevEnd);
    }
  };

  // ---- Schedule the outside world.
  for (const a of scenario.amd) {
    clock.after(a.atMs, () => {
      if (!streamOpen && trace.endedAtMs !== null) return;
      trace.amdDelivered.push({ atMs: clock.nowMs(), answeredBy: a.answeredBy });
      // As the Durable Object: a result that arrives while no instance runs the call waits for the next.
      if (restarting) pendingAmd = a.answeredBy;
      else current.onAmd(a.answeredBy);
    });
  }
  if (scenario.sttDropAtMs !== null) {
    clock.after(scenario.sttDropAtMs, () => {
      // As the listener: words already final end the turn once the caller has been silent a while,
      // unless the next stream's words (and end) come first.
      if (stt.current && pendingWords.length > 0) {
        const words = pendingWords;
        const silentAt = clock.nowMs() + Math.max(0, (audio.length - audioPos) / 8);
        clock.after(silentAt - clock.nowMs() + ORPHAN_END_SILENCE_MS, () => {
          if (pendingWords !== words || !streamOpen) return;
          endTurn(clock.nowMs());
        });
      }
      stt.current?.emit({ type: "closed" });
    });
  }
  if (scenario.hangupAtMs !== null) {
    clock.after(scenario.hangupAtMs, () => {
      if (!streamOpen) return;
      trace.callerHungUpAtMs = clock.nowMs();
      streamStops();
    });
  }

  if (scenario.restart !== null) {
    const { atMs, kind } = scenario.restart;
    clock.after(atMs, () => void restart(kind));
  }
  void current.begin();
  clock.after(0, tick);
  void caller();
  await clock.runUntil(START_MS + maxCallDurationMs + 60_000, () => callOver && !streamOpen);
  // Let the last callbacks (status repeats) land.
  await clock.runUntil(clock.nowMs() + 3_000);

  trace.events = [...events.values()].sort((a, b) => a.seq - b.seq);
  trace.record = record;
  trace.lines = phone.lines;
  trace.clears = phone.clears;
  trace.markNames = phone.markNames;
  trace.overlaps = phone.overlaps;
  trace.badFrames = phone.badFrames;
  return trace;
}
