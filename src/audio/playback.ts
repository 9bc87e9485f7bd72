/** What the caller actually heard: outbound chunks, Twilio mark echoes and `clear`, per utterance. */
import { SAMPLE_RATE } from "./mulaw";

/** Character range of the utterance text that a chunk's audio speaks (from TTS alignment), end exclusive. */
export interface TextSpan {
  start: number;
  end: number;
}

/** A chunk handed to Twilio (media frames followed by its mark). */
export interface SentChunkInfo {
  utteranceId: string;
  markName: string;
  byteCount: number;
  textSpan?: TextSpan;
}

/** How a mark echo is to be read. */
export type MarkStatus = "heard" | "cut" | "unknown";

/** What the tracker knows about one utterance. */
export interface UtteranceSummary {
  utteranceId: string;
  text: string | undefined;
  sentMs: number;
  /** Audio confirmed played by mark echoes. */
  heardMs: number;
  /** Estimated part of the chunk that was playing when `clear` cut it (time since it started). */
  cutPartialMs: number;
  /** A `clear` dropped some of this utterance's audio. */
  cut: boolean;
  /** All audio was sent (`endUtterance`). */
  ended: boolean;
  /** Every sent chunk has been echoed (heard or cut). */
  settled: boolean;
}

type ChunkState = "queued" | "heard" | "cut";

interface ChunkEntry extends SentChunkInfo {
  durationMs: number;
  sentAtMs: number;
  state: ChunkState;
}

interface UtteranceEntry {
  text: string | undefined;
  chunks: ChunkEntry[];
  cutPartialMs: number;
  cut: boolean;
  ended: boolean;
}

/**
 * Tracks outbound playback from marks. Twilio plays media in arrival order and echoes a mark when the
 * audio before it has played; `clear` drops unplayed audio and echoes every pending mark at once, so an
 * echo of a mark sent before a `clear` means "cut", not "heard" (protocols.md §3).
 */
export class PlaybackTracker {
  private readonly byMark = new Map<string, ChunkEntry>();
  private readonly utterances = new Map<string, UtteranceEntry>();
  /** Chunks not yet played, in send order. */
  private queue: ChunkEntry[] = [];
  /** When the last mark echo arrived (the next queued chunk started playing then, or when sent). */
  private lastEchoAtMs: number | null = null;

  private utterance(id: string): UtteranceEntry {
    let u = this.utterances.get(id);
    if (!u) {
      u = { text: undefined, chunks: [], cutPartialMs: 0, cut: false, ended: false };
      this.utterances.set(id, u);
    }
    return u;
  }

  /** Sets the text an utterance speaks (used for the heard prefix). */
  setText(utteranceId: string, text: string): void {
    this.utterance(utteranceId).text = text;
  }

  /** Records a chunk just sent (media then mark). Mark names must be unique per call. */
  recordSent(chunk: SentChunkInfo, nowMs: number): void {
    if (this.byMark.has(chunk.markName)) throw new Error("playback: duplicate mark name");
    const entry: ChunkEntry = {
      ...chunk,
      durationMs: (chunk.byteCount * 1000) / SAMPLE_RATE,
      sentAtMs: nowMs,
      state: "queued",
    };
    this.byMark.set(chunk.markName, entry);
    this.utterance(chunk.utteranceId).chunks.push(entry);
    this.queue.push(entry);
  }

  /** Marks that all of an utterance's audio has been sent. */
  endUtterance(utteranceId: string): void {
    this.utterance(utteranceId).ended = true;
  }

  /** Consumes a mark echo from Twilio. */
  onMark(markName: string, nowMs: number): { status: MarkStatus; utteranceId: string | undefined } {
    const entry = this.byMark.get(markName);
    if (!entry) return { status: "unknown", utteranceId: undefined };
    if (entry.state === "queued") {
      entry.state = "heard";
      // Marks echo in order: anything queued before this one has played too (its own echo may be lost).
      const idx = this.queue.indexOf(entry);
      for (const earlier of this.queue.slice(0, idx)) earlier.state = "heard";
      this.queue = this.queue.slice(idx + 1);
      this.lastEchoAtMs = nowMs;
    }
    return { status: entry.state === "heard" ? "heard" : "cut", utteranceId: entry.utteranceId };
  }

  /**
   * Records a `clear` sent at `nowMs`: every queued chunk is cut. The chunk at the head of the queue was
   * probably playing; its played part is estimated from when it started (`cutPartialMs`).
   * Returns the ids of the utterances that were cut.
   */
  clear(nowMs: number): string[] {
    const cutIds = new Set<string>();
    const head = this.queue[0];
    if (head) {
      const startedAtMs = Math.max(head.sentAtMs, this.lastEchoAtMs ?? head.sentAtMs);
      const partial = Math.min(head.durationMs, Math.max(0, nowMs - startedAtMs));
      this.utterance(head.utteranceId).cutPartialMs += partial;
    }
    for (const entry of this.queue) {
      entry.state = "cut";
      const u = this.utterance(entry.utteranceId);
      u.cut = true;
      cutIds.add(entry.utteranceId);
    }
    this.queue = [];
    return [...cutIds];
  }

  /** Whether agent audio is still queued or playing at Twilio. */
  isPlaying(): boolean {
    return this.queue.length > 0;
  }

  /** Milliseconds of the utterance the caller heard (confirmed by marks, plus the cut chunk's estimate). */
  heardMs(utteranceId: string): number {
    const s = this.summary(utteranceId);
    return s ? s.heardMs + s.cutPartialMs : 0;
  }

  /** Summary of one utterance, or undefined if nothing was sent for it. */
  summary(utteranceId: string): UtteranceSummary | undefined {
    const u = this.utterances.get(utteranceId);
    if (!u) return undefined;
    let sentMs = 0;
    let heardMs = 0;
    let settled = true;
    for (const c of u.chunks) {
      sentMs += c.durationMs;
      if (c.state === "heard") heardMs += c.durationMs;
      if (c.state === "queued") settled = false;
    }
    return {
      utteranceId,
      text: u.text,
      sentMs,
      heardMs,
      cutPartialMs: u.cutPartialMs,
      cut: u.cut,
      ended: u.ended,
      settled,
    };
  }

  /**
   * The prefix of the utterance text the caller heard, cut back to a whole word. Uses the chunks' text spans
   * when every heard chunk has one; otherwise proportional to heard / sent audio (an over-estimate while
   * the utterance is still being sent).
   */
  heardText(utteranceId: string): string {
    const u = this.utterances.get(utteranceId);
    const text = u?.text;
    if (!u || text === undefined) return "";
    const heard = u.chunks.filter((c) => c.state === "heard");
    if (!u.cut && u.chunks.length > 0 && heard.length === u.chunks.length && u.ended) return text;
    let end: number;
    if (heard.length > 0 && heard.every((c) => c.textSpan !== undefined)) {
      end = Math.max(...heard.map((c) => c.textSpan?.end ?? 0));
    } else {
      const s = this.summary(utteranceId);
      if (!s || s.sentMs === 0) return "";
      end = Math.round((text.length * Math.min(s.sentMs, s.heardMs + s.cutPartialMs)) / s.sentMs);
    }
    return wordPrefix(text, end);
  }
}

/** `text.slice(0, end)` cut back to the last whole word, trimmed. */
export function wordPrefix(text: string, end: number): string {
  if (end >= text.length) return text.trim();
  if (end <= 0) return "";
  const boundary = /\s/.test(text.charAt(end)) ? end : text.lastIndexOf(" ", end);
  return boundary <= 0 ? "" : text.slice(0, boundary).trim();
}
