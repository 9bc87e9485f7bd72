/**
 * Pre-renders a flow's deterministic lines into the utterance store: only keys that are missing are
 * synthesized (a present key is never rendered again), each line once however many states speak it,
 * with progress reported per key. I/O only through the TTS port and the store interface.
 */
import { utteranceKey } from "../call/utterance-key";
import { ProviderError } from "../lib/errors";
import type { TextToSpeech } from "../providers/ports";
import type { CacheableLine } from "./lines";

/** Where rendered lines live (R2 in the Worker, a Map in tests). */
export interface UtteranceStore {
  has(key: string): Promise<boolean>;
  put(key: string, audio: Uint8Array, meta: { text: string }): Promise<void>;
}

/** The voice a cache is rendered for; part of every content key. */
export interface UtteranceVoice {
  voiceId: string;
  modelId: string;
}

/** What happened to one content key. */
export interface RenderProgress {
  /** 1-based position among the distinct keys, in completion order. */
  index: number;
  total: number;
  key: string;
  text: string;
  /** Every line that speaks this text (`state.field`). */
  lineIds: string[];
  status: "rendered" | "cached" | "failed";
  /** µ-law bytes uploaded (0 unless rendered). */
  bytes: number;
  error?: string;
}

/** Totals of one run. */
export interface RenderSummary {
  total: number;
  rendered: number;
  cached: number;
  failed: number;
  bytes: number;
  /** The run was stopped (client went away) before every key was handled. */
  aborted: boolean;
}

export interface RenderOptions {
  lines: readonly CacheableLine[];
  voice: UtteranceVoice;
  tts: Pick<TextToSpeech, "synthesize">;
  store: UtteranceStore;
  onProgress?: (progress: RenderProgress) => void;
  signal?: AbortSignal;
  /** Keys rendered at once. Default 2 (provider concurrency limits are low). */
  concurrency?: number;
  /** Extra attempts for a retryable provider error. Default 1. */
  retries?: number;
  /** Pause before a retry, multiplied by the attempt number. Default 500. */
  retryDelayMs?: number;
}

interface KeyGroup {
  key: string;
  text: string;
  lineIds: string[];
}

/** Group lines by content key, keeping first-seen order. */
export async function groupByKey(
  lines: readonly CacheableLine[],
  voice: UtteranceVoice,
): Promise<KeyGroup[]> {
  const groups = new Map<string, KeyGroup>();
  for (const line of lines) {
    const key = await utteranceKey({ ...voice, text: line.text });
    const group = groups.get(key);
    if (group) group.lineIds.push(line.lineId);
    else groups.set(key, { key, text: line.text, lineIds: [line.lineId] });
  }
  return [...groups.values()];
}

async function synthesizeAll(
  tts: Pick<TextToSpeech, "synthesize">,
  text: string,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of tts.synthesize(text, signal)) {
    parts.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Render every missing line into `store` and report progress; never re-renders a key the store has. */
export async function renderMissing(options: RenderOptions): Promise<RenderSummary> {
  const { tts, store, signal } = options;
  const groups = await groupByKey(options.lines, options.voice);
  const summary: RenderSummary = {
    total: groups.length,
    rendered: 0,
    cached: 0,
    failed: 0,
    bytes: 0,
    aborted: false,
  };
  const retries = options.retries ?? 1;
  const retryDelayMs = options.retryDelayMs ?? 500;
  let next = 0;
  let done = 0;

  const report = (group: KeyGroup, status: RenderProgress["status"], bytes: number, error?: string) => {
    done += 1;
    summary[status] += 1;
    summary.bytes += bytes;
    options.onProgress?.({
      index: done,
      total: groups.length,
      key: group.key,
      text: group.text,
      lineIds: group.lineIds,
      status,
      bytes,
      ...(error === undefined ? {} : { error }),
    });
  };

  const handle = async (group: KeyGroup): Promise<void> => {
    if (await store.has(group.key)) {
      report(group, "cached", 0);
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const audio = await synthesizeAll(tts, group.text, signal);
        if (audio.byteLength === 0) throw new Error("provider returned no audio");
        await store.put(group.key, audio, { text: group.text });
        report(group, "rendered", audio.byteLength);
        return;
      } catch (error) {
        const retryable = error instanceof ProviderError && error.retryable;
        if (signal?.aborted) return;
        if (!retryable || attempt >= retries) {
          report(group, "failed", 0, error instanceof Error ? error.message : String(error));
          return;
        }
        await new Promise((r) => setTimeout(r, retryDelayMs * (attempt + 1)));
      }
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (signal?.aborted) return;
      const group = groups[next];
      if (group === undefined) return;
      next += 1;
      await handle(group).catch((error: unknown) =>
        report(group, "failed", 0, error instanceof Error ? error.message : String(error)),
      );
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 2, groups.length));
  await Promise.all(Array.from({ length: workers }, () => worker()));
  summary.aborted = done < groups.length;
  return summary;
}
