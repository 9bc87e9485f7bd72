/**
 * The agent's words for the simulator's report: the call's own audit events (`agent.line` with the line's
 * text per utterance id, `call.barge_in` with how much of each cut line was heard), read from the app's
 * admin events route. Cached lines never reach TTS, so the events, not the TTS log, are the source.
 */
import { z } from "zod";

/** What one agent line said, and how much of it the caller heard when a barge-in cut it. */
export interface AgentWords {
  text: string;
  /** Characters heard before the cut; null when the line was not cut. */
  heardChars: number | null;
}

/** The words by utterance id, or why there are none. */
export type AgentWordsResult = { words: Map<string, AgentWords> } | { words: null; note: string };

const LineEvent = z.object({
  type: z.literal("agent.line"),
  payload: z.looseObject({ utteranceId: z.string().min(1), text: z.string() }),
});
const CutEvent = z.object({
  type: z.literal("call.barge_in"),
  payload: z.looseObject({
    cutLines: z
      .array(z.object({ utteranceId: z.string().min(1), heardChars: z.number().int().nonnegative() }))
      .optional(),
  }),
});
const EventsBody = z.object({ events: z.array(z.looseObject({ type: z.string() })) });

/** The agent's words from a call's events (other events, and malformed ones, are skipped). */
export function agentWordsFromEvents(events: readonly unknown[]): Map<string, AgentWords> {
  const out = new Map<string, AgentWords>();
  for (const raw of events) {
    const line = LineEvent.safeParse(raw);
    if (line.success) {
      const { utteranceId, text } = line.data.payload;
      out.set(utteranceId, { text, heardChars: out.get(utteranceId)?.heardChars ?? null });
      continue;
    }
    const cut = CutEvent.safeParse(raw);
    if (!cut.success) continue;
    for (const { utteranceId, heardChars } of cut.data.payload.cutLines ?? []) {
      const known = out.get(utteranceId);
      if (known) known.heardChars = heardChars;
    }
  }
  return out;
}

/** A cut line as the engine remembers it: the words heard, then `[interrupted]`. */
export function spokenText(w: AgentWords, cutSeen: boolean): string {
  if (w.heardChars !== null && w.heardChars < w.text.length)
    return `${w.text.slice(0, w.heardChars).trimEnd()} [interrupted]`.trimStart();
  return cutSeen ? `${w.text} [interrupted]` : w.text;
}

export interface FetchAgentWordsOptions {
  baseUrl: string;
  adminToken: string | null | undefined;
  callSid: string;
  /** Utterance ids the caller heard: fetched again (briefly) until each has its words. */
  expectIds: readonly string[];
  attempts?: number;
  retryDelayMs?: number;
}

/** Read the call's events from `GET /admin/calls/:sid/events`; never throws (a note says why words are missing). */
export async function fetchAgentWords(
  fetchFn: typeof fetch,
  opts: FetchAgentWordsOptions,
): Promise<AgentWordsResult> {
  if (!opts.adminToken)
    return { words: null, note: "no admin token (set ADMIN_TOKEN, or run against `npm run dev`)" };
  const url = new URL(`/admin/calls/${opts.callSid}/events`, opts.baseUrl);
  const attempts = opts.attempts ?? 3;
  let words = new Map<string, AgentWords>();
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 300));
    let res: Response;
    try {
      res = await fetchFn(url, { headers: { authorization: `Bearer ${opts.adminToken}` } });
    } catch (err) {
      return {
        words: null,
        note: `events not readable: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (!res.ok) return { words: null, note: `events route answered ${res.status}` };
    const body = EventsBody.safeParse(await res.json().catch(() => null));
    if (!body.success) return { words: null, note: "events route answered an unexpected body" };
    words = agentWordsFromEvents(body.data.events);
    if (opts.expectIds.every((id) => words.has(id))) break;
  }
  if (words.size === 0) return { words: null, note: "the call's events hold no agent lines (an older app?)" };
  return { words };
}
