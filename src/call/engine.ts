/**
 * One call, end to end, with all I/O injected: Twilio frames in, flow steps, the agent's speech out.
 * The Durable Object is a thin shell around it. Flow steps are serialised through one queue so
 * socket events, action results and timers never interleave inside a transition.
 */
import { base64ToBytes, type FrameClassifier, PlaybackTracker, type VadConfig } from "../audio";
import {
  divertToVoicemail,
  initialSnapshot,
  reopenAfterUnansweredTransfer,
  resumeEffects,
  step,
} from "../flow/interpreter";
import type { Flow } from "../flow/schema";
import type { Effect, FlowEvent, FlowSnapshot, ListeningSpec } from "../flow/types";
import type { HistoryEntry, TtsSession } from "../providers/ports";
import { EVENT_TYPES } from "../store/call-event";
import type { CallEventInput } from "../store/outbox";
import { classifyFastPath } from "../turn/fast-path";
import { createPhraseChunker } from "../turn/phrase-chunker";
import { type DecideInput, decideTurn, stateVadConfig, type TurnOutcome } from "./decide";
import { callStartedEvent, flowLogToEvent } from "./events";
import { type CallerTurn, Listener } from "./listener";
import type { CallIO, CallMeta, CallProgress, CallRecord } from "./ports";
import type { RecordingSink } from "./recorder";
import { Speaker } from "./speaker";
import { Speculator } from "./speculator";
import { TurnClock } from "./turn-clock";
import { amdMeaning, BEEP_WAIT_MS, type GateEvent, VoicemailDetector } from "./voicemail";

export interface EngineOptions {
  flow: Flow;
  meta: CallMeta;
  vars: Record<string, string>;
  /** Snapshot from storage when the call resumes after a restart. */
  resume: FlowSnapshot | null;
  resumeProgress?: CallProgress;
  /** The caller came back from a warm transfer nobody answered: reopen the flow for a callback. */
  reopenAfterTransfer?: boolean;
  vadConfig: VadConfig;
  models: { fast: string; reasoning: string };
  llmTimeoutMs: number;
  maxCallDurationMs: number;
  classifier?: FrameClassifier;
  /** Short per-call system text for the LLM (persona, business). */
  persona: string;
  /** Call recording (only when the consent rule allows it): fed caller frames, agent frames as sent, cuts. */
  recorder?: RecordingSink;
}

const MAX_HISTORY = 12;
/** How long a digit keyed mid-speech waits for the spoken answer it goes with. */
const DTMF_HOLD_MS = 2_500;
const MAX_STT_RECONNECTS = 5;
/** Longest wait, before hanging up, for the words of a caller who talks over the closing line. */
const FINAL_WORDS_WAIT_MS = 4_000;

export class CallEngine {
  private snapshot: FlowSnapshot;
  private readonly tracker = new PlaybackTracker();
  private readonly speaker: Speaker;
  private readonly listener: Listener;
  private queue: Promise<void> = Promise.resolve();
  private listening: ListeningSpec | null = null;
  /** The caller turn being decided; `superseded` once a barge-in or a machine result overtook it. */
  private turnInFlight: { abort: AbortController; superseded: boolean } | null = null;
  private tts: Promise<TtsSession> | null = null;
  private readonly history: HistoryEntry[] = [];
  private readonly spoken = new Map<string, string>();
  private readonly turnClock: TurnClock;
  private readonly speculator: Speculator;
  private utteranceSeq: number;
  private readonly progress: CallProgress;
  private ended = false;
  private shutDown = false;
  private heldDtmf: string | null = null;
  private sttReconnects = 0;
  private readonly voicemail = new VoicemailDetector();
  private beepHeard = false;
  private humanConfirmed = false;
  private releaseBeepGate: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  private turnEndWaiters: (() => void)[] = [];
  /** Resolves when the call's flow has ended and its last line was played. */
  readonly finished: Promise<string>;
  private finish: (reason: string) => void = () => undefined;

  constructor(
    private readonly opts: EngineOptions,
    private readonly io: CallIO,
  ) {
    this.snapshot = opts.resume ?? initialSnapshot(opts.flow, opts.vars, io.nowMs());
    this.progress = {
      ...(opts.resumeProgress ?? { turns: 0, consentGiven: false, transferAttempted: false }),
    };
    // Lines sent by an earlier instance may be unrecorded: leave a gap rather than reuse an id.
    this.utteranceSeq = opts.resumeProgress ? (opts.resumeProgress.lines ?? 0) + 100 : 0;
    this.turnClock = new TurnClock((payload) =>
      this.persistEvents([
        { callSid: opts.meta.callSid, atMs: io.nowMs(), type: EVENT_TYPES.turnLatency, payload },
      ]),
    );
    this.speculator = new Speculator(
      (text, signal) => {
        const spec = this.listening;
        if (!spec)
          return Promise.resolve({
            kind: "llm_failed",
            error: "not listening",
            event: { type: "no_speech" },
          });
        return decideTurn(this.decideInput(text, spec, signal, [...this.history, { role: "user", text }]));
      },
      opts.llmTimeoutMs,
      () => io.nowMs(),
      (delayMs, fn) => io.timers.after(delayMs, fn),
    );
    this.finished = new Promise((r) => {
      this.finish = r;
    });
    this.speaker = new Speaker({
      streamSid: opts.meta.streamSid,
      send: (f) => io.send(f),
      tracker: this.tracker,
      cache: io.cache,
      ttsSession: () => {
        // A failed connect is forgotten so the next line tries again (or takes the fallback).
        this.tts ??= io.tts.openSession().catch((err: unknown) => {
          this.tts = null;
          throw err;
        });
        return this.tts;
      },
      nowMs: () => io.nowMs(),
      log: io.log,
      callerSpeaking: () => this.listener.speaking,
      ttsGateMs: opts.vadConfig.vad.ttsGateMs,
      // Recording: agent audio as sent (placed by the recorder's playhead).
      onAudioSent: (_id, audio) => opts.recorder?.agent(audio, io.nowMs()),
      sleep: (ms) => new Promise((resolve) => io.timers.after(ms, resolve)),
    });
    this.listener = new Listener(
      opts.vadConfig,
      {
        agentSpeaking: () => this.tracker.isPlaying(),
        onBargeIn: (d) => this.bargeIn(d.reactionMs),
        onTurn: (t) => {
          this.enqueue(() => this.handleTurn(t));
          const waiters = this.turnEndWaiters;
          this.turnEndWaiters = [];
          for (const w of waiters) w();
        },
        onInterim: (text) => this.onInterim(text),
        onSttError: (message) => io.log.warn("stt stream error", { error: message }),
        onSttClosed: () => this.reconnectStt(),
        onNoWords: () => this.armNoSpeech(),
        nowMs: () => io.nowMs(),
      },
      opts.classifier,
    );
  }

  get state(): FlowSnapshot {
    return this.snapshot;
  }

  /** Start (or resume) the call: open STT, then greet or pick up where the flow was. */
  async begin(): Promise<void> {
    const { io, opts } = this;
    io.timers.set(
      "max_duration",
      Math.max(0, opts.maxCallDurationMs - (io.nowMs() - opts.meta.startedAtMs)),
      () => this.enqueue(() => this.apply({ type: "max_duration" })),
    );
    this.connectStt();
    const reopened =
      opts.resume && opts.reopenAfterTransfer
        ? reopenAfterUnansweredTransfer(opts.flow, this.snapshot, io.nowMs())
        : null;
    if (reopened) {
      io.log.info("call back from an unanswered transfer", { callSid: opts.meta.callSid });
      this.snapshot = reopened.snapshot;
      this.enqueue(() => this.run(reopened.effects, []));
    } else if (opts.resume && this.snapshot.status === "ended") {
      // The flow had ended but the instance died before Twilio took the hang-up or transfer: finish it.
      const control = this.progress.control;
      if (control && !control.done) {
        io.log.info("finishing a call whose flow had ended", {
          callSid: opts.meta.callSid,
          reason: control.reason,
        });
        this.enqueue(() =>
          this.endCall(
            () => (control.action === "transfer" ? io.transfer(control.target) : io.hangup()),
            control.reason,
          ),
        );
      }
    } else if (opts.resume) {
      io.log.info("call resumed", { callSid: opts.meta.callSid, state: this.snapshot.state });
      this.enqueue(() => this.run(resumeEffects(opts.flow, this.snapshot), []));
    } else {
      this.enqueue(() => this.apply({ type: "start" }, [callStartedEvent(opts.meta)]));
    }
    await this.queue;
  }

  private connectStt(): void {
    const { io, opts } = this;
    io.stt
      .connect({
        language: "en-GB",
        endpointing: {
          silenceMs: opts.vadConfig.endpointing.silenceDurationMs,
          utteranceEndMs: opts.vadConfig.endpointing.utteranceEndMs,
        },
        tag: opts.meta.callSid,
      })
      .then((stt) => {
        if (this.ended) void stt.close().catch(() => undefined);
        else this.listener.attach(stt);
      })
      .catch((err: unknown) => {
        io.log.error("stt connect failed", { error: err instanceof Error ? err.message : String(err) });
        this.reconnectStt();
      });
  }

  /** The STT stream dropped mid-call: reconnect with backoff; the call never waits on it. */
  private reconnectStt(): void {
    if (this.ended) return;
    const attempt = ++this.sttReconnects;
    if (attempt > MAX_STT_RECONNECTS) {
      this.io.log.error("stt unavailable; no more reconnects this call", { attempts: attempt - 1 });
      return;
    }
    this.persistEvents([
      { callSid: this.opts.meta.callSid, atMs: this.io.nowMs(), type: "stt.reconnect", payload: { attempt } },
    ]);
    this.io.timers.set("stt_reconnect", Math.min(2_000, 100 * 2 ** (attempt - 1)), () => this.connectStt());
  }

  /** Inbound `media` frame: a malformed payload is dropped, the call goes on. */
  onMedia(payload: string, timestampMs: number): void {
    // Audio still matters after the flow ended: a voicemail message waits for the beep before hanging up.
    if (this.shutDown) return;
    let bytes: Uint8Array;
    try {
      bytes = base64ToBytes(payload);
    } catch {
      this.io.log.warn("media payload dropped", { reason: "bad base64" });
      return;
    }
    this.opts.recorder?.caller(bytes, timestampMs); // recording: caller track
    for (const tone of this.voicemail.push(bytes, timestampMs)) this.onTone(tone);
    const events = this.listener.pushFrame(bytes, timestampMs);
    for (const e of events) {
      if (e.type === "speech_start") this.io.timers.clear("no_speech");
      // Speech that ends without a turn (a cough, an unfinished word) must not leave the agent waiting forever.
      else if (e.type === "speech_end") this.armNoSpeech();
    }
  }

  onMark(name: string): void {
    const wasPlaying = this.tracker.isPlaying();
    const r = this.tracker.onMark(name, this.io.nowMs());
    if (r.status === "heard") this.turnClock.played(name, this.io.nowMs());
    // Only the echo that ends playback starts the silence clock: a stray or repeated echo changes nothing.
    if (wasPlaying && !this.tracker.isPlaying()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      this.armNoSpeech();
    }
  }

  onDtmf(digit: string): void {
    this.enqueue(async () => {
      if (!this.listening) return;
      this.io.timers.clear("no_speech");
      this.bargeIn(0);
      if (this.listener.turnInProgress) {
        // The caller is also speaking an answer: decide both together when the spoken turn ends.
        this.heldDtmf = digit;
        this.io.timers.set("dtmf_hold", DTMF_HOLD_MS, () => this.releaseHeldDtmf());
        return;
      }
      this.progress.turns++;
      await this.apply({ type: "dtmf", digit });
    });
  }

  /**
   * Twilio's asynchronous AMD result, which may arrive at any moment (before, during or after the
   * greeting, or after the caller answered). A machine result stops a pitch only when it routes the
   * call to voicemail; the message then waits for the beep (already passed for `machine_end_*`, else
   * heard locally, else a bounded wait). A result the flow ignores changes nothing.
   */
  onAmd(answeredBy: string): void {
    const { result, beepPassed } = amdMeaning(answeredBy);
    // A machine result outranks a caller turn still being decided before the pitch: that turn was
    // most likely the mailbox greeting, and deciding it would start the pitch to a recorder.
    if (result === "machine" && !this.humanConfirmed && this.progress.turns <= 1) this.supersedeTurn();
    this.enqueue(async () => {
      if (result === "human") {
        this.humanConfirmed = true;
        this.voicemail.stop();
      }
      if (result === "machine") return this.machineDetected(beepPassed || this.beepHeard);
      await this.apply({ type: "amd", result });
    });
  }

  /**
   * A machine answered (AMD or a beep). In the opening state the flow's own `voicemail` branch decides;
   * after at most one turn (a mailbox greeting taken for an answer) the call is diverted to it; once a
   * person has been confirmed or has talked for longer, the result is only recorded.
   */
  private async machineDetected(beepPassed: boolean): Promise<void> {
    const { opts, io } = this;
    if (this.snapshot.status === "ended") return;
    const divert = () => this.machineAnswered(beepPassed);
    if (this.snapshot.state === opts.flow.initial || this.humanConfirmed || this.progress.turns > 1) {
      await this.apply({ type: "amd", result: "machine" }, [], divert);
      return;
    }
    const diverted = divertToVoicemail(opts.flow, this.snapshot, io.nowMs());
    if (!diverted) {
      await this.apply({ type: "amd", result: "machine" });
      return;
    }
    this.snapshot = diverted.snapshot;
    divert();
    await this.run(diverted.effects, []);
  }

  private machineAnswered(beepPassed: boolean): void {
    if (this.tracker.isPlaying()) this.bargeIn(0);
    if (beepPassed || this.beepHeard) return;
    let release: () => void = () => undefined;
    this.speaker.holdUntil(
      new Promise<void>((resolve) => {
        release = resolve;
      }),
    );
    this.releaseBeepGate = () => {
      this.releaseBeepGate = null;
      this.io.timers.clear("beep_wait");
      release();
    };
    this.io.timers.set("beep_wait", BEEP_WAIT_MS, () => this.releaseBeepGate?.());
  }

  private onTone(e: GateEvent): void {
    const { io, opts } = this;
    io.log.info(e.type === "beep" ? "voicemail beep heard" : "carrier ringback heard", { atMs: e.atMs });
    this.persistEvents([
      {
        callSid: opts.meta.callSid,
        atMs: io.nowMs(),
        type: e.type === "beep" ? "voicemail.beep" : "audio.ringback",
        payload: { ...e },
      },
    ]);
    if (e.type !== "beep") return; // ringback is never a person and never a beep
    this.beepHeard = true;
    if (this.releaseBeepGate) {
      this.releaseBeepGate();
      return;
    }
    // A beep before anyone was confirmed human: this is a voicemail box, not a person.
    if (this.humanConfirmed || this.snapshot.status === "ended" || this.progress.turns > 1) return;
    this.enqueue(() => this.machineDetected(true));
  }

  /** The caller hung up or the stream stopped. */
  async hangupReceived(): Promise<void> {
    if (!this.ended) this.enqueue(() => this.apply({ type: "caller_hangup" }));
    await this.queue;
    await this.shutdown();
  }

  async shutdown(): Promise<void> {
    if (this.shutDown) return;
    this.shutDown = true;
    this.ended = true;
    this.io.timers.clearAll();
    this.supersedeTurn();
    this.speculator.cancel();
    this.speaker.cancel();
    await this.listener.dispose();
    const tts = this.tts;
    this.tts = null;
    if (tts) await tts.then((s) => s.close()).catch(() => undefined);
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.io.log.error("call task failed", { error: err instanceof Error ? err.message : String(err) });
    });
  }

  /**
   * A line id unique for the whole call, across instances: a resumed instance numbers on from the stored
   * count, so its marks never collide with the old instance's, which Twilio may still be echoing.
   */
  private nextUtteranceId(): string {
    this.utteranceSeq++;
    this.progress.lines = this.utteranceSeq;
    return `u${this.utteranceSeq}`;
  }

  private supersedeTurn(): void {
    const t = this.turnInFlight;
    if (!t) return;
    t.superseded = true;
    t.abort.abort();
  }

  private bargeIn(reactionMs: number): void {
    if (!this.tracker.isPlaying()) return;
    const { io, opts } = this;
    io.send({ event: "clear", streamSid: opts.meta.streamSid });
    this.speaker.cancel();
    this.supersedeTurn();
    this.speculator.cancel();
    const cut = this.tracker.clear(io.nowMs());
    opts.recorder?.cut(io.nowMs()); // recording: what was not yet played is dropped
    for (const id of cut) this.rememberHeard(id);
    this.persistEvents([
      {
        callSid: opts.meta.callSid,
        atMs: io.nowMs(),
        type: "call.barge_in",
        // How much of each cut line was heard (characters, no words): what `agent.line` text the caller got.
        payload: {
          reactionMs,
          cut: cut.length,
          cutLines: cut.map((id) => ({ utteranceId: id, heardChars: this.tracker.heardText(id).length })),
        },
      },
    ]);
  }

  /** Keep in history only what the caller actually heard of an agent line. */
  private rememberHeard(utteranceId: string): void {
    const text = this.spoken.get(utteranceId);
    if (text === undefined) return;
    this.spoken.delete(utteranceId);
    const heard = this.tracker.heardText(utteranceId);
    const entry = heard.length < text.length ? `${heard} [interrupted]` : text;
    if (heard.trim() || entry !== text) this.pushHistory({ role: "assistant", text: entry });
  }

  private pushHistory(entry: HistoryEntry): void {
    this.history.push(entry);
    if (this.history.length > MAX_HISTORY) this.history.splice(0, this.history.length - MAX_HISTORY);
  }

  private async handleTurn(turn: CallerTurn): Promise<void> {
    const spec = this.listening;
    // "Stop calling me" is honoured from any state: during an action, a line, or the closing words.
    if ((!spec || this.ended) && isOptOut(turn.text)) return this.optOutOutsideListening();
    if (!spec || this.ended) {
      // Audit only (no words): a turn the engine was not listening for, so QA can see it went unanswered.
      this.persistEvents([
        {
          callSid: this.opts.meta.callSid,
          atMs: this.io.nowMs(),
          type: "turn.dropped",
          payload: {
            reason: this.ended ? "call_ended" : "not_listening",
            state: this.snapshot.state,
            phase: this.snapshot.phase,
          },
        },
      ]);
      return;
    }
    this.io.timers.clear("no_speech");
    for (const id of [...this.spoken.keys()]) this.rememberHeard(id);
    this.pushHistory({ role: "user", text: turn.text });
    this.progress.turns++;
    this.turnClock.begin(turn);
    const heldDtmf = this.heldDtmf ?? undefined;
    this.heldDtmf = null;
    this.io.timers.clear("dtmf_hold");
    const abort = new AbortController();
    const inFlight = { abort, superseded: false };
    this.turnInFlight = inFlight;
    const cancelDeadline = this.io.timers.after(this.opts.llmTimeoutMs, () => abort.abort());
    const speculated = heldDtmf === undefined ? this.speculator.take(turn.text, spec.stateId) : null;
    if (heldDtmf !== undefined) this.speculator.cancel();
    const first = withFinalText(
      await (speculated ??
        decideTurn({
          ...this.decideInput(turn.text, spec, abort.signal, this.history),
          ...(heldDtmf === undefined ? {} : { heldDtmf }),
        })),
      turn.text,
    );
    cancelDeadline();
    if (speculated)
      this.persistEvents([
        {
          callSid: this.opts.meta.callSid,
          atMs: this.io.nowMs(),
          type: "turn.speculation_used",
          payload: { state: spec.stateId },
        },
      ]);
    let outcome = first;
    let streamedReply: string | null = null;
    if (outcome.kind === "streaming") {
      // The reply is spoken phrase by phrase while the model writes it; the decision follows.
      streamedReply = this.nextUtteranceId();
      this.turnClock.queued(streamedReply);
      const id = streamedReply;
      this.speaker.speakStream(id, phrasesOf(outcome.replyDeltas)).then(
        (o) => this.turnClock.spoke(id, o.timing),
        () => undefined,
      );
      outcome = await outcome.result;
    }
    if (this.turnInFlight === inFlight) this.turnInFlight = null;
    // A barge-in or a machine result overtook this turn: its decision is dropped, not its fallback taken.
    if (inFlight.superseded) return;
    if (outcome.kind === "streaming") return;
    if (outcome.kind === "llm_failed") {
      this.io.log.warn("llm failed; taking the flow's fallback", { error: outcome.error });
      this.persistEvents([
        {
          callSid: this.opts.meta.callSid,
          atMs: this.io.nowMs(),
          type: "llm.failed",
          payload: { state: spec.stateId },
        },
      ]);
      return this.apply(outcome.event);
    }
    this.turnClock.decided(outcome.by, this.io.nowMs(), outcome.firstTokenMs);
    if (outcome.kind === "confirm") {
      // Keyed and spoken answers disagree: ask, stay in the state, act on the next answer.
      this.persistEvents([
        {
          callSid: this.opts.meta.callSid,
          atMs: this.io.nowMs(),
          type: "dtmf.disagreed",
          payload: { state: spec.stateId },
        },
      ]);
      await this.say({ text: outcome.question, cacheable: false }, spec.stateId);
      this.listening = spec;
      return;
    }
    if (outcome.kind === "answer") {
      // The caller asked about the call: answer, ask the state's question again, stay in the state.
      this.persistEvents([
        {
          callSid: this.opts.meta.callSid,
          atMs: this.io.nowMs(),
          type: "turn.caller_question",
          payload: { state: spec.stateId, kinds: outcome.questions, reasked: outcome.reasked },
        },
      ]);
      await this.say({ text: outcome.text, cacheable: false }, spec.stateId);
      this.listening = spec;
      return;
    }
    if (streamedReply !== null && outcome.reply) {
      this.spoken.set(streamedReply, outcome.reply);
      this.lineEvent(streamedReply, spec.stateId, outcome.reply);
    } else if (outcome.reply) await this.say({ text: outcome.reply, cacheable: false }, spec.stateId);
    const machine = outcome.event.type === "amd" && outcome.event.result === "machine";
    return this.apply(outcome.event, [], machine ? () => this.machineAnswered(this.beepHeard) : undefined);
  }

  /**
   * An opt-out heard while the flow was not listening. An active flow goes to its opt-out state at once
   * (suppression, closing line, hang-up); a flow that already ended, or sits in a terminal state, still
   * records the suppression.
   */
  private async optOutOutsideListening(): Promise<void> {
    const { io, opts } = this;
    this.progress.turns++;
    if (this.snapshot.status === "active" && !this.snapshot.optedOut) {
      this.supersedeTurn();
      if (this.tracker.isPlaying()) this.bargeIn(0);
      await this.apply({ type: "opt_out" });
      // A terminal state (e.g. one sending a video, then hanging up) does not go to opt-out: record it below.
      if (this.snapshot.optedOut) return;
    }
    if (this.snapshot.optedOut) return;
    this.snapshot = { ...this.snapshot, optedOut: true };
    opts.recorder?.stop(io.nowMs());
    this.persistEvents([
      flowLogToEvent(
        opts.meta,
        { type: "opt_out", state: this.snapshot.state, trigger: "after_end" },
        io.nowMs(),
      ),
    ]);
    const result = await io.runAction("crm:add_suppression", {}, new AbortController().signal);
    if (!result.ok) io.log.warn("suppression after the call ended failed", { error: result.error });
  }

  private decideInput(
    text: string,
    spec: ListeningSpec,
    signal: AbortSignal,
    history: readonly HistoryEntry[],
  ): DecideInput {
    return {
      text,
      spec,
      flow: this.opts.flow,
      snapshot: this.snapshot,
      history,
      persona: this.opts.persona,
      models: this.opts.models,
      llm: this.io.llm,
      signal,
      // Audit: a retried or re-routed LLM decision (provider facts only, no words of the call).
      onLlmRecovery: (step) =>
        this.persistEvents([
          {
            callSid: this.opts.meta.callSid,
            atMs: this.io.nowMs(),
            type: step.type === "retry" ? "llm.retry" : "llm.fallback_model",
            payload: { state: spec.stateId, ...step },
          },
        ]),
    };
  }

  private onInterim(text: string): void {
    this.io.timers.clear("no_speech");
    const spec = this.listening;
    if (!spec || this.ended || this.heldDtmf !== null) return;
    this.speculator.interim(text, spec.stateId);
  }

  /** A digit held while the caller was talking is used alone if no spoken answer follows. */
  private releaseHeldDtmf(): void {
    const digit = this.heldDtmf;
    this.heldDtmf = null;
    if (digit === null || !this.listening) return;
    this.progress.turns++;
    this.enqueue(() => this.apply({ type: "dtmf", digit }));
  }

  /**
   * Feed one event to the flow, persist the result, then carry out its effects. `onMove` runs only
   * when the flow actually moved (entered a state, changed phase or ended), before the effects: an
   * event the flow ignores changes nothing the engine listens for, plays or times.
   */
  private async apply(event: FlowEvent, extra: CallEventInput[] = [], onMove?: () => void): Promise<void> {
    if (this.snapshot.status === "ended") return;
    const before = this.snapshot;
    const { snapshot, effects } = step(this.opts.flow, before, event, this.io.nowMs());
    this.snapshot = snapshot;
    const moved = flowMoved(before, snapshot);
    if (moved) onMove?.();
    await this.run(effects, extra, moved);
  }

  /**
   * Carry out a step's effects. `moved` says the flow left where it was: only then is the old
   * listening spec (and any speculation on it) dropped; the step's `listen` effect sets the new one.
   */
  private async run(effects: Effect[], extra: CallEventInput[], moved = true): Promise<void> {
    const { io, opts } = this;
    const now = io.nowMs();
    const events = [...extra];
    for (const e of effects) {
      if (e.type === "log") {
        events.push(flowLogToEvent(opts.meta, e.event, now));
        if (e.event.type === "consent" && e.event.granted !== false) this.progress.consentGiven = true;
      }
      if (
        e.type === "transfer" ||
        (e.type === "run_actions" && e.actions.some((a) => a.name === "transfer_to_human"))
      ) {
        this.progress.transferAttempted = true;
      }
      if (e.type === "hangup") this.progress.control = { action: "hangup", reason: e.reason, done: false };
      if (e.type === "transfer")
        this.progress.control = {
          action: "transfer",
          reason: "transfer",
          ...(e.target === undefined ? {} : { target: e.target }),
          done: false,
        };
    }
    if (this.snapshot.optedOut) opts.recorder?.stop(now); // recording: the caller objected
    if (moved) {
      this.listening = null;
      this.speculator.cancel();
    }
    io.persist(this.record(), events);

    for (const effect of effects) {
      switch (effect.type) {
        case "say":
          await this.say(effect, effect.stateId);
          break;
        case "listen":
          this.listening = effect;
          this.listener.reconfigure(stateVadConfig(this.opts.vadConfig, effect));
          this.armNoSpeech();
          break;
        case "run_actions":
          this.runActions(effect.actions);
          break;
        case "hangup":
          await this.endCall(() => io.hangup(), effect.reason);
          break;
        case "transfer":
          await this.endCall(() => io.transfer(effect.target), "transfer");
          break;
        default:
          break;
      }
    }
  }

  private async say(line: { text: string; cacheable: boolean }, stateId: string): Promise<void> {
    const id = this.nextUtteranceId();
    this.spoken.set(id, line.text);
    this.turnClock.queued(id);
    const outcome = this.speaker.speak({ id, text: line.text, cacheable: line.cacheable });
    this.lineEvent(id, stateId, line.text);
    // Speech is queued, not awaited: listening starts while the line plays, so barge-in works.
    outcome.then(
      (o) => {
        this.turnClock.spoke(id, o.timing);
        // A line that produced no audio (failed, cancelled) never gets a mark echo: arm from here.
        if (!this.tracker.isPlaying()) this.armNoSpeech();
      },
      () => undefined,
    );
    this.io.log.debug("line queued", { state: stateId, utteranceId: id, cacheable: line.cacheable });
  }

  /** Audit the words of a line the agent started (after its audio was asked for: never ahead of it). */
  private lineEvent(utteranceId: string, state: string, text: string): void {
    this.persistEvents([
      {
        callSid: this.opts.meta.callSid,
        atMs: this.io.nowMs(),
        type: "agent.line",
        payload: { utteranceId, state, text },
      },
    ]);
  }

  private runActions(actions: { id: string; name: string; params: Record<string, string> }[]): void {
    for (const action of actions) {
      const abort = new AbortController();
      this.io.runAction(action.name, action.params, abort.signal).then((result) =>
        this.enqueue(() =>
          this.apply(
            result.ok
              ? {
                  type: "action_result",
                  actionId: action.id,
                  ok: true,
                  data: result.data,
                  ...(result.outcome ? { outcome: result.outcome } : {}),
                }
              : { type: "action_result", actionId: action.id, ok: false },
            [
              {
                callSid: this.opts.meta.callSid,
                atMs: this.io.nowMs(),
                type: "action.result",
                payload: {
                  action: action.name,
                  ok: result.ok,
                  ...(result.ok ? {} : { error: result.error }),
                },
              },
            ],
          ),
        ),
      );
    }
  }

  /** No-speech timer runs only while listening and once the agent's audio has played out. */
  private armNoSpeech(): void {
    const spec = this.listening;
    // Never while a line is still queued or being produced: the caller has not heard the question yet.
    if (!spec || this.tracker.isPlaying() || this.speaker.busy || this.listener.speaking) return;
    this.io.timers.set("no_speech", spec.noSpeechTimeoutMs, () =>
      this.enqueue(async () => {
        if (this.listening === spec) await this.apply({ type: "no_speech" });
      }),
    );
  }

  private whenTurnEnds(maxWaitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.io.timers.after(maxWaitMs, resolve);
      this.turnEndWaiters.push(() => {
        cancel();
        resolve();
      });
    });
  }

  private whenIdle(maxWaitMs: number): Promise<void> {
    if (!this.tracker.isPlaying()) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.io.timers.after(maxWaitMs, resolve);
      this.idleWaiters.push(() => {
        cancel();
        resolve();
      });
    });
  }

  private async endCall(action: () => Promise<void>, reason: string): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.speaker.drained();
    await this.whenIdle(15_000);
    // The caller is talking over the goodbye: hear them out (it may be "stop calling me") before hanging up.
    if (this.listener.turnInProgress) await this.whenTurnEnds(FINAL_WORDS_WAIT_MS);
    const { callSid } = this.opts.meta;
    let error: string | undefined;
    try {
      await action();
      if (this.progress.control) this.progress.control.done = true;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      this.io.log.error("call control failed", { reason, error });
    }
    const summary = this.turnClock.summary();
    this.persistEvents([
      {
        callSid,
        atMs: this.io.nowMs(),
        type: "call.control",
        payload: { action: reason, ok: error === undefined, ...(error ? { error } : {}) },
      },
      { callSid, atMs: this.io.nowMs(), type: "call.latency_summary", payload: { ...summary } },
    ]);
    this.finish(reason);
  }

  private persistEvents(events: CallEventInput[]): void {
    this.io.persist(this.record(), events);
  }

  private record(): CallRecord {
    return {
      callSid: this.opts.meta.callSid,
      snapshot: this.snapshot,
      meta: this.opts.meta,
      progress: { ...this.progress },
    };
  }
}

/** The caller's words are an unambiguous opt-out (the fast path's own rule, whatever the state). */
function isOptOut(text: string): boolean {
  return classifyFastPath({ text, branches: [], captures: [] }).decision === "opt_out";
}

/** The flow entered a state, changed phase or status: what the engine listens for may have changed. */
export function flowMoved(before: FlowSnapshot, after: FlowSnapshot): boolean {
  return (
    before.transitions !== after.transitions ||
    before.state !== after.state ||
    before.phase !== after.phase ||
    before.status !== after.status
  );
}

/** A speculative decision was made on the interim words; the audit keeps the final transcript. */
function withFinalText(outcome: TurnOutcome, text: string): TurnOutcome {
  if (outcome.kind !== "event" || outcome.event.type !== "intent") return outcome;
  return { ...outcome, event: { ...outcome.event, text } };
}

/** Reply text deltas as speakable phrases: the first one as early as a short clause allows. */
async function* phrasesOf(deltas: AsyncIterable<string>): AsyncGenerator<string> {
  const chunker = createPhraseChunker({ minChars: 12, maxChars: 160, firstMinChars: 5 });
  for await (const delta of deltas) yield* chunker.push(delta);
  yield* chunker.flush();
}
