/**
 * The caller's phone as Twilio's Media Streams present it to the call, on a virtual clock: agent
 * audio plays in arrival order at 8 kHz, a mark is echoed when the audio before it has played, and
 * `clear` drops unplayed audio and echoes every pending mark at once (protocols.md §3). Mark echoes
 * can be made late, bursty or absent, as real networks and hung-up callers make them.
 */
import { base64ToBytes } from "../../../audio/mulaw";
import type { OutboundFrame } from "../../../call/twilio-frames";
import type { VirtualClock } from "./clock";
import type { LineCodes } from "./providers";

/**
 * How marks come back while the caller is on the line: at once, late, held and released in bursts, or
 * at once and again 3 s later (a stray repeat, as a misbehaving proxy would send).
 */
export type MarkPolicy = "prompt" | "late" | "burst" | "repeat";

/** One agent line as the caller's phone observed it. */
export interface PlayedLine {
  utteranceId: string;
  text: string;
  /** Virtual time the first frame arrived. */
  firstFrameAtMs: number;
  /** Virtual time its first audio started playing (null: never played). */
  startedAtMs: number | null;
  /** Virtual time its last audio finished playing (null: not all played). */
  finishedAtMs: number | null;
  playedMs: number;
  sentMs: number;
  /** A `clear` dropped some of it. */
  cut: boolean;
}

interface QueuedAudio {
  kind: "media";
  bytes: number;
  code: number;
}
interface QueuedMark {
  kind: "mark";
  name: string;
}

const utteranceOf = (mark: string) => mark.split(":")[0] ?? mark;

export class VirtualPhone {
  readonly lines: PlayedLine[] = [];
  readonly clears: number[] = [];
  /** Every mark name sent, in order (names must be unique over the whole call). */
  readonly markNames: string[] = [];
  /** Audio of a line that arrived after another line had started sending (two lines at once). */
  readonly overlaps: { atMs: number; line: string; after: string }[] = [];
  private lastMarkLine: string | null = null;
  private readonly finishedSending = new Set<string>();
  /** Sent frames the phone could not read (a bug on our side). */
  readonly badFrames: string[] = [];
  private queue: (QueuedAudio | QueuedMark)[] = [];
  private playing: { endsAtMs: number; cancel: () => void } | null = null;
  private heldEchoes: string[] = [];
  private pendingLine: PlayedLine | null = null;
  hungUp = false;

  constructor(
    private readonly clock: VirtualClock,
    private readonly codes: LineCodes,
    private readonly policy: MarkPolicy,
    private readonly echo: (markName: string) => void,
    private readonly lateMs = 400,
  ) {
    if (policy === "burst") this.scheduleBurst();
  }

  /** A frame the call sent to Twilio. */
  receive(frame: OutboundFrame): void {
    if (this.hungUp) return;
    const now = this.clock.nowMs();
    switch (frame.event) {
      case "media": {
        let bytes: Uint8Array;
        try {
          bytes = base64ToBytes(frame.media.payload);
        } catch {
          this.badFrames.push("media payload is not base64");
          return;
        }
        const code = bytes[0] ?? 0;
        if (this.pendingLine === null) {
          // First audio of a line: the mark that follows names it.
          const text = this.codes.text(code) ?? `#${code}`;
          this.pendingLine = {
            utteranceId: "",
            text,
            firstFrameAtMs: now,
            startedAtMs: null,
            finishedAtMs: null,
            playedMs: 0,
            sentMs: 0,
            cut: false,
          };
        }
        this.pendingLine.sentMs += bytes.length / 8;
        this.queue.push({ kind: "media", bytes: bytes.length, code });
        break;
      }
      case "mark": {
        this.markNames.push(frame.mark.name);
        const id = utteranceOf(frame.mark.name);
        const line = this.pendingLine;
        if (line !== null) {
          this.pendingLine = null;
          const known = this.lines.find((l) => l.utteranceId === id);
          if (known) known.sentMs += line.sentMs;
          else {
            line.utteranceId = id;
            this.lines.push(line);
          }
        }
        // Lines are sent one after another: once another line's audio came, an earlier one never resumes.
        if (this.lastMarkLine !== null && this.lastMarkLine !== id)
          this.finishedSending.add(this.lastMarkLine);
        if (this.finishedSending.has(id))
          this.overlaps.push({ atMs: now, line: id, after: this.lastMarkLine ?? "" });
        this.lastMarkLine = id;
        this.queue.push({ kind: "mark", name: frame.mark.name });
        break;
      }
      case "clear": {
        this.clears.push(now);
        this.playing?.cancel();
        this.playing = null;
        const marks: string[] = [];
        for (const item of this.queue) {
          if (item.kind === "mark") marks.push(item.name);
          else {
            const line = this.lineOfQueued(item);
            if (line) line.cut = true;
          }
        }
        this.queue = [];
        for (const m of marks) this.echoMark(m, true);
        return;
      }
    }
    this.pump();
  }

  /** The caller hung up: nothing plays and no mark comes back any more. */
  hangUp(): void {
    this.hungUp = true;
    this.playing?.cancel();
    this.playing = null;
    this.queue = [];
  }

  /** The media socket was replaced: audio of the old stream stops and its marks never come back. */
  newStream(): void {
    this.playing?.cancel();
    this.playing = null;
    for (const item of this.queue)
      if (item.kind === "media") {
        const line = this.lineOfQueued(item);
        if (line) line.cut = true;
      }
    this.queue = [];
    this.heldEchoes = [];
  }

  /** Whether agent audio is still queued or playing at the phone. */
  get busy(): boolean {
    return this.queue.some((q) => q.kind === "media");
  }

  private lineOfQueued(item: QueuedAudio): PlayedLine | undefined {
    // The first line still owning unplayed audio with this code.
    return this.lines.find((l) => l.finishedAtMs === null && this.codes.code(l.text) === item.code);
  }

  /** Play whatever is at the head of the queue. */
  private pump(): void {
    while (this.playing === null && this.queue.length > 0) {
      const head = this.queue[0];
      if (head === undefined) return;
      if (head.kind === "mark") {
        this.queue.shift();
        const line = this.lines.find((l) => l.utteranceId === utteranceOf(head.name));
        if (line && !this.queue.some((q) => q.kind === "mark" && utteranceOf(q.name) === line.utteranceId))
          line.finishedAtMs = this.clock.nowMs();
        this.echoMark(head.name, false);
        continue;
      }
      const line = this.lineOfQueued(head);
      if (line && line.startedAtMs === null) line.startedAtMs = this.clock.nowMs();
      const durationMs = head.bytes / 8;
      const cancel = this.clock.after(durationMs, () => {
        this.playing = null;
        this.queue.shift();
        if (line) line.playedMs += durationMs;
        this.pump();
      });
      this.playing = { endsAtMs: this.clock.nowMs() + durationMs, cancel };
    }
  }

  private echoMark(name: string, fromClear: boolean): void {
    if (this.hungUp) return;
    switch (this.policy) {
      case "late":
        this.clock.after(fromClear ? 0 : this.lateMs, () => {
          if (!this.hungUp) this.echo(name);
        });
        return;
      case "burst":
        this.heldEchoes.push(name);
        return;
      case "repeat":
        this.echo(name);
        this.clock.after(3_000, () => {
          if (!this.hungUp) this.echo(name);
        });
        return;
      default:
        this.echo(name);
    }
  }

  private scheduleBurst(): void {
    this.clock.after(1_000, () => {
      const held = this.heldEchoes;
      this.heldEchoes = [];
      if (!this.hungUp) for (const m of held) this.echo(m);
      if (!this.hungUp) this.scheduleBurst();
    });
  }
}
