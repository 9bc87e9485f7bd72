/**
 * The NDJSON progress protocol between `POST /admin/utterances/render` and `npm run tts:cache` (one
 * schema for both ends), and how the CLI prints it (pure).
 */
import { z } from "zod";

const Voice = z.object({ voiceId: z.string(), modelId: z.string() });

/** One line of the render stream. */
export const RenderEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("start"), flow: z.string(), voice: Voice, lines: z.number(), keys: z.number() }),
  z.object({
    type: z.literal("line"),
    index: z.number(),
    total: z.number(),
    key: z.string(),
    text: z.string(),
    lineIds: z.array(z.string()),
    status: z.enum(["rendered", "cached", "failed"]),
    bytes: z.number(),
    error: z.string().optional(),
  }),
  z.object({
    type: z.literal("done"),
    total: z.number(),
    rendered: z.number(),
    cached: z.number(),
    failed: z.number(),
    bytes: z.number(),
    aborted: z.boolean(),
    elapsedMs: z.number(),
  }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type RenderEvent = z.infer<typeof RenderEventSchema>;

/** One NDJSON line for an event. */
export function encodeRenderEvent(event: RenderEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** Parse one NDJSON line; `null` for a blank line, an Error for anything that is not a known event. */
export function decodeRenderEvent(line: string): RenderEvent | null | Error {
  if (line.trim() === "") return null;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return new Error("progress line is not JSON");
  }
  const parsed = RenderEventSchema.safeParse(raw);
  return parsed.success ? parsed.data : new Error("progress line has an unknown shape");
}

/** `1.8 KB`, `512 B`, `1.2 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

const STATUS_WORD = { rendered: "rendered", cached: "cached  ", failed: "FAILED  " } as const;

/** The terminal line for one event, e.g. `[3/12] rendered greeting.say (1.8 KB)`. */
export function formatRenderEvent(event: RenderEvent): string {
  switch (event.type) {
    case "start":
      return `Flow ${event.flow}: ${event.lines} cacheable lines, ${event.keys} distinct (voice ${event.voice.voiceId}, ${event.voice.modelId})`;
    case "line": {
      const [first, ...more] = event.lineIds;
      const where = `${first ?? "?"}${more.length > 0 ? ` (+${more.length} more)` : ""}`;
      const tail =
        event.status === "rendered"
          ? ` (${formatBytes(event.bytes)})`
          : event.status === "failed"
            ? `: ${event.error ?? "unknown error"}`
            : "";
      return `[${event.index}/${event.total}] ${STATUS_WORD[event.status]} ${where}${tail}`;
    }
    case "done":
      return `${event.aborted ? "Stopped early. " : "Done. "}${event.rendered} rendered (${formatBytes(event.bytes)}), ${event.cached} already cached, ${event.failed} failed, in ${(event.elapsedMs / 1000).toFixed(1)} s`;
    case "error":
      return `Render failed: ${event.message}`;
  }
}
