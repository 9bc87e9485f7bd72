/**
 * Twilio's side of a bidirectional Media Stream, independent of the socket library: sends
 * `connected`/`start`/`media`/`dtmf`/`stop` with string sequence numbers, plays the agent's audio on
 * a (optionally accelerated) clock, echoes each `mark` once the audio before it has played, and on
 * `clear` drops unplayed audio and echoes every pending mark at once (protocols.md §3). Records
 * everything the caller observed. Runs in Node and workerd.
 */
import { bytesToBase64, FRAME_BYTES, MULAW_SILENCE } from "../../audio/mulaw";

/** The socket the peer writes to. */
export interface PeerSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** One chunk of agent audio as the caller's phone received and played it. */
export interface AgentChunk {
  mark: string;
  utteranceId: string;
  bytes: number;
  firstMediaAtMs: number;
  markAtMs: number;
  /** When the echo went back; `cut` when it was echoed because of a `clear`. */
  echoedAtMs: number | null;
  cut: boolean;
}

/** A timeline entry of what happened on the line. */
export type LineEvent =
  | { kind: "agent_audio"; atMs: number; utteranceId: string }
  | { kind: "clear"; atMs: number; cutMarks: number }
  | { kind: "caller_speech"; atMs: number; endAtMs: number; text: string }
  | { kind: "caller_silence"; atMs: number; durationMs: number }
  | { kind: "dtmf"; atMs: number; digit: string }
  | { kind: "amd"; atMs: number; answeredBy: string }
  | { kind: "hangup"; atMs: number }
  | { kind: "closed"; atMs: number; code: number; reason: string };

/** Peer settings. */
export interface MediaPeerOptions {
  callSid: string;
  accountSid: string;
  /** Agent audio plays this many times faster than real time (1 = as a phone would). */
  playbackSpeed?: number;
  /** Caller frames sent per 20 ms tick (1 = real time). */
  framesPerTick?: number;
  /** Send silence frames whenever the caller is not talking, as Twilio does (real-time mode). */
  idleFill?: boolean;
  now?: () => number;
}

const TICK_MS = 20;

/** Twilio's media-stream peer. Feed it the agent's messages with {@link MediaPeer.receive}. */
export class MediaPeer {
  readonly streamSid: string;
  readonly chunks: AgentChunk[] = [];
  readonly timeline: LineEvent[] = [];
  clears = 0;
  closed: { code: number; reason: string } | null = null;
  readonly startedAtMs: number;
  private seq = 0;
  private mediaMs = 0;
  private pendingBytes = 0;
  private pendingFirstAtMs: number | null = null;
  private lastUtterance = "";
  private playheadAt = 0;
  private readonly playQueue: { chunk: AgentChunk; endsAt: number }[] = [];
  private playTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly outQueue: { frame: Uint8Array; done?: () => void }[] = [];
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;
  private started = false;
  private pumpAnchorAt: number | null = null;
  private pumpTicks = 0;
  private waiters: (() => void)[] = [];
  private lastAgentMediaAtMs = 0;
  private readonly speed: number;
  private readonly framesPerTick: number;
  private readonly idleFill: boolean;
  private readonly now: () => number;

  constructor(
    private readonly socket: PeerSocket,
    private readonly opts: MediaPeerOptions,
  ) {
    this.streamSid = `MZ${opts.callSid.slice(2)}`;
    this.speed = opts.playbackSpeed ?? 1;
    this.framesPerTick = opts.framesPerTick ?? 1;
    this.idleFill = opts.idleFill ?? false;
    this.now = opts.now ?? (() => Date.now());
    this.startedAtMs = this.now();
  }

  /** `connected` then `start` with the TwiML `<Parameter>`s, then the frame pump. */
  start(customParameters: Record<string, string>): void {
    this.sendJson({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.sendJson({
      event: "start",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: this.opts.accountSid,
        callSid: this.opts.callSid,
        tracks: ["inbound"],
        customParameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
    this.started = true;
    this.schedulePump();
  }

  /** Queue caller audio (whole 20 ms frames); resolves when its last frame has gone out. */
  sendAudio(audio: Uint8Array): Promise<void> {
    const count = Math.floor(audio.length / FRAME_BYTES);
    if (count === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      for (let i = 0; i < count; i++) {
        const frame = audio.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
        this.outQueue.push(i === count - 1 ? { frame, done: resolve } : { frame });
      }
      this.schedulePump();
    });
  }

  /** A keypad digit, as Twilio reports it. */
  dtmf(digit: string): void {
    this.timeline.push({ kind: "dtmf", atMs: this.now(), digit });
    this.sendJson({
      event: "dtmf",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      dtmf: { track: "inbound_track", digit },
    });
  }

  /** The caller hung up: `stop`, then the socket closes. */
  hangup(): void {
    this.timeline.push({ kind: "hangup", atMs: this.now() });
    this.sendJson({
      event: "stop",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      stop: { accountSid: this.opts.accountSid, callSid: this.opts.callSid },
    });
    this.dispose();
    try {
      this.socket.close(1000, "caller hung up");
    } catch {
      // already closed
    }
    this.onClose(1000, "caller hung up");
  }

  /** Record a line event the conversation runner observed (speech sent, silence, AMD). */
  note(event: LineEvent): void {
    this.timeline.push(event);
  }

  /** One message from the agent. */
  receive(text: string): void {
    let msg: { event?: string; media?: { payload?: string }; mark?: { name?: string } };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const now = this.now();
    if (msg.event === "media" && typeof msg.media?.payload === "string") {
      const b64 = msg.media.payload;
      const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
      const bytes = Math.floor((b64.length * 3) / 4) - padding;
      if (this.pendingFirstAtMs === null) this.pendingFirstAtMs = now;
      this.pendingBytes += bytes;
      this.lastAgentMediaAtMs = now;
      this.playheadAt = Math.max(this.playheadAt, now) + bytes / 8 / this.speed;
    } else if (msg.event === "mark" && typeof msg.mark?.name === "string") {
      const name = msg.mark.name;
      const utteranceId = name.includes(":") ? (name.split(":")[0] ?? name) : name;
      const chunk: AgentChunk = {
        mark: name,
        utteranceId,
        bytes: this.pendingBytes,
        firstMediaAtMs: this.pendingFirstAtMs ?? now,
        markAtMs: now,
        echoedAtMs: null,
        cut: false,
      };
      if (utteranceId !== this.lastUtterance) {
        this.lastUtterance = utteranceId;
        this.timeline.push({ kind: "agent_audio", atMs: chunk.firstMediaAtMs, utteranceId });
      }
      this.pendingBytes = 0;
      this.pendingFirstAtMs = null;
      this.chunks.push(chunk);
      this.playQueue.push({ chunk, endsAt: Math.max(this.playheadAt, now) });
      if (!this.playTimer) this.armPlayTimer();
    } else if (msg.event === "clear") {
      this.clears++;
      const pending = this.playQueue.splice(0);
      this.timeline.push({ kind: "clear", atMs: now, cutMarks: pending.length });
      this.playheadAt = now;
      this.pendingBytes = 0;
      this.pendingFirstAtMs = null;
      for (const p of pending) this.echo(p.chunk, true);
    }
    this.notify();
  }

  /** The socket closed (either side). */
  onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    this.timeline.push({ kind: "closed", atMs: this.now(), code, reason });
    this.dispose();
    this.notify();
  }

  /** Agent audio received but not yet played, or audio without its mark yet. */
  get agentPlaying(): boolean {
    return this.playQueue.length > 0 || this.pendingBytes > 0;
  }

  /** When agent media last arrived (0 = never). */
  get lastAgentMediaAt(): number {
    return this.lastAgentMediaAtMs;
  }

  /** Total agent audio received, in bytes (8 bytes per ms). */
  get agentBytes(): number {
    return this.chunks.reduce((s, c) => s + c.bytes, 0) + this.pendingBytes;
  }

  /** Wait until `predicate` holds (re-checked on every message and every 50 ms); false on timeout. */
  async waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - this.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Stop timers (the socket is left to its owner). */
  dispose(): void {
    if (this.playTimer) clearTimeout(this.playTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.playTimer = null;
    this.pumpTimer = null;
    for (const item of this.outQueue.splice(0)) item.done?.();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private sendJson(frame: Record<string, unknown>): void {
    if (this.closed) return;
    try {
      this.socket.send(JSON.stringify(frame));
    } catch {
      // The agent closed the socket; Twilio drops late frames the same way.
    }
  }

  private sendFrame(frame: Uint8Array): void {
    this.sendJson({
      event: "media",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      media: {
        track: "inbound",
        chunk: String(this.seq),
        timestamp: String(this.mediaMs),
        payload: bytesToBase64(frame),
      },
    });
    this.mediaMs += TICK_MS;
  }

  private schedulePump(): void {
    if (this.pumpTimer || this.closed || !this.started) return;
    if (!this.idleFill && this.outQueue.length === 0) return;
    if (this.pumpAnchorAt === null) {
      this.pumpAnchorAt = this.now();
      this.pumpTicks = 0;
    }
    const due = this.pumpAnchorAt + this.pumpTicks * TICK_MS;
    this.pumpTimer = setTimeout(() => this.pump(), Math.max(0, due - this.now()));
  }

  /** One tick: up to `framesPerTick` queued frames (silence when idle-filling); catches up after a late timer. */
  private pump(): void {
    this.pumpTimer = null;
    if (this.closed || this.pumpAnchorAt === null) return;
    const dueTicks = Math.floor((this.now() - this.pumpAnchorAt) / TICK_MS) + 1;
    const ticks = Math.max(1, dueTicks - this.pumpTicks);
    for (let tick = 0; tick < ticks; tick++) {
      this.pumpTicks++;
      for (let i = 0; i < this.framesPerTick; i++) {
        const item = this.outQueue.shift();
        if (item) {
          this.sendFrame(item.frame);
          item.done?.();
        } else if (this.idleFill) {
          this.sendFrame(new Uint8Array(FRAME_BYTES).fill(MULAW_SILENCE));
        } else break;
      }
    }
    if (!this.idleFill && this.outQueue.length === 0) {
      // Re-anchor so the next burst starts on time instead of "catching up" idle ticks.
      this.pumpAnchorAt = null;
      return;
    }
    this.schedulePump();
  }

  private armPlayTimer(): void {
    const next = this.playQueue[0];
    if (!next) return;
    this.playTimer = setTimeout(
      () => {
        this.playTimer = null;
        const now = this.now();
        while (this.playQueue[0] && this.playQueue[0].endsAt <= now) {
          const p = this.playQueue.shift();
          if (p) this.echo(p.chunk, false);
        }
        this.notify();
        this.armPlayTimer();
      },
      Math.max(0, next.endsAt - this.now()),
    );
  }

  private echo(chunk: AgentChunk, cut: boolean): void {
    chunk.echoedAtMs = this.now();
    chunk.cut = cut;
    this.sendJson({
      event: "mark",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      mark: { name: chunk.mark },
    });
  }
}
