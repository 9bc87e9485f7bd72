/**
 * The scripted Twilio peer of the Node call harness: streams caller audio in 20 ms frames, plays
 * the agent's audio on a real-time clock, echoes marks and honours `clear`.
 */
import { z } from "zod";
import { base64ToBytes, bytesToBase64, FRAME_BYTES, FRAME_MS } from "../../audio";
import { silence } from "../emulators/voice-shared";

/** One frame the agent sent to "Twilio", stamped on arrival with wall time and the caller's media clock. */
export interface PeerFrame {
  event: "media" | "mark" | "clear";
  atMs: number;
  /** Caller audio streamed so far (ms of media time) when the frame arrived. */
  callerMediaMs: number;
  name?: string;
  bytes?: number;
}

/** Options of the scripted Twilio peer. */
export interface TwilioPeerOptions {
  callSid: string;
  streamSid: string;
  /** Deliver one JSON text frame to the agent (the media WebSocket, or an in-process shell). */
  send(text: string): void;
  /** Caller audio speed: 1 = one 20 ms frame per 20 ms. */
  pace: number;
  /** Agent audio playout speed: 1 = real time. */
  playbackSpeed: number;
  nowMs(): number;
}

const AgentFrameSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("media"), media: z.object({ payload: z.string() }) }),
  z.object({ event: z.literal("mark"), mark: z.object({ name: z.string() }) }),
  z.object({ event: z.literal("clear") }),
]);

/**
 * Twilio's side of a media stream, transport-agnostic: streams caller audio continuously (line
 * silence between lines, as Twilio does), plays the agent's audio on a clock at `playbackSpeed`,
 * echoes each mark when its audio has played, and on `clear` drops unplayed audio and echoes every
 * pending mark at once.
 */
export class ScriptedTwilioPeer {
  readonly frames: PeerFrame[] = [];
  private seq = 0;
  private sentFrames = 0;
  private t0 = 0;
  private readonly queue: Uint8Array[] = [];
  private readonly speaking: { untilFrame: number; resolve: () => void }[] = [];
  private playQueue: { mark: string; endsAt: number }[] = [];
  private playheadAt = 0;
  private playingSince: number | null = null;
  private streamTimer: ReturnType<typeof setTimeout> | null = null;
  private echoTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly filler = silence(FRAME_MS);

  constructor(private readonly opts: TwilioPeerOptions) {}

  /** `connected` then `start` with the stream's custom parameters. */
  start(customParameters: Record<string, string>): void {
    this.emit({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.emit({
      event: "start",
      sequenceNumber: String(++this.seq),
      streamSid: this.opts.streamSid,
      start: {
        streamSid: this.opts.streamSid,
        callSid: this.opts.callSid,
        tracks: ["inbound"],
        customParameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** Start the inbound audio clock: one frame every 20 ms / pace, silence when the caller is quiet. */
  startStreaming(): void {
    this.t0 = this.opts.nowMs();
    this.tick();
  }

  /** Queue caller audio; `startMediaMs` is when its first frame goes out, `done` when its last has. */
  speak(audio: Uint8Array): { startMediaMs: number; done: Promise<void> } {
    const startMediaMs = (this.sentFrames + this.queue.length) * FRAME_MS;
    for (let o = 0; o < audio.length; o += FRAME_BYTES) {
      const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
      frame.set(audio.subarray(o, o + FRAME_BYTES));
      this.queue.push(frame);
    }
    const untilFrame = this.sentFrames + this.queue.length;
    const done = new Promise<void>((resolve) => this.speaking.push({ untilFrame, resolve }));
    return { startMediaMs, done };
  }

  dtmf(digit: string): void {
    this.emit({ event: "dtmf", sequenceNumber: String(++this.seq), dtmf: { track: "inbound_track", digit } });
  }

  stop(): void {
    this.emit({ event: "stop", sequenceNumber: String(++this.seq), stop: { callSid: this.opts.callSid } });
  }

  /** Caller audio streamed so far, in ms of media time. */
  get mediaMs(): number {
    return this.sentFrames * FRAME_MS;
  }

  /** How long the agent has been audible in its current stretch of playback, in ms of audio. */
  playingForMs(): number {
    const now = this.opts.nowMs();
    if (this.playingSince === null || this.playheadAt <= now) return 0;
    return (now - this.playingSince) * this.opts.playbackSpeed;
  }

  /** How long the agent has been silent (wall ms); 0 while audio is playing or marks are pending. */
  idleForMs(): number {
    const now = this.opts.nowMs();
    if (this.playQueue.length > 0 || this.playheadAt > now) return 0;
    return now - this.playheadAt;
  }

  /** Marks the agent has sent so far (one per chunk of speech). */
  marksReceived = 0;

  /** A frame from the agent. */
  deliver(text: string): void {
    if (this.closed) return;
    const parsed = AgentFrameSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return;
    const f = parsed.data;
    const now = this.opts.nowMs();
    const at = { atMs: now, callerMediaMs: this.mediaMs };
    if (f.event === "media") {
      const bytes = base64ToBytes(f.media.payload).length;
      if (this.playheadAt <= now) this.playingSince = now;
      this.playheadAt = Math.max(this.playheadAt, now) + bytes / 8 / this.opts.playbackSpeed;
      this.frames.push({ event: "media", bytes, ...at });
    } else if (f.event === "mark") {
      this.marksReceived++;
      this.frames.push({ event: "mark", name: f.mark.name, ...at });
      this.playQueue.push({ mark: f.mark.name, endsAt: Math.max(this.playheadAt, now) });
      this.scheduleEcho();
    } else {
      this.frames.push({ event: "clear", ...at });
      const pending = this.playQueue;
      this.playQueue = [];
      this.playheadAt = now;
      this.playingSince = null;
      for (const p of pending) this.echo(p.mark);
    }
  }

  close(): void {
    this.closed = true;
    if (this.streamTimer) clearTimeout(this.streamTimer);
    if (this.echoTimer) clearTimeout(this.echoTimer);
    for (const s of this.speaking.splice(0)) s.resolve();
  }

  private emit(frame: Record<string, unknown>): void {
    if (!this.closed) this.opts.send(JSON.stringify({ ...frame, streamSid: this.opts.streamSid }));
  }

  private tick(): void {
    if (this.closed) return;
    const { pace } = this.opts;
    const now = this.opts.nowMs();
    const due = Math.floor(((now - this.t0) * pace) / FRAME_MS) + 1 - this.sentFrames;
    for (let i = 0; i < due; i++) {
      this.emit({
        event: "media",
        sequenceNumber: String(++this.seq),
        media: {
          track: "inbound",
          chunk: String(this.sentFrames + 1),
          timestamp: String(this.mediaMs),
          payload: bytesToBase64(this.queue.shift() ?? this.filler),
        },
      });
      this.sentFrames++;
    }
    while (this.speaking[0] && this.speaking[0].untilFrame <= this.sentFrames)
      this.speaking.shift()?.resolve();
    const nextAt = this.t0 + (this.sentFrames * FRAME_MS) / pace;
    this.streamTimer = setTimeout(() => this.tick(), Math.max(1, nextAt - this.opts.nowMs()));
  }

  private echo(name: string): void {
    this.emit({ event: "mark", sequenceNumber: String(++this.seq), mark: { name } });
  }

  private scheduleEcho(): void {
    if (this.echoTimer || this.closed) return;
    const next = this.playQueue[0];
    if (!next) return;
    this.echoTimer = setTimeout(
      () => {
        this.echoTimer = null;
        const now = this.opts.nowMs();
        while (this.playQueue[0] && this.playQueue[0].endsAt <= now) {
          const p = this.playQueue.shift();
          if (p) this.echo(p.mark);
        }
        this.scheduleEcho();
      },
      Math.max(0, next.endsAt - this.opts.nowMs()),
    );
  }
}
