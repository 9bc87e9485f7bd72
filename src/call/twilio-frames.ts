/**
 * Twilio Media Streams frames, both directions. Inbound frames are parsed with a discriminated-union
 * schema (numbers arrive as strings in Twilio's examples, so both are accepted); anything malformed
 * or unknown is reported, never thrown, so the call goes on.
 */
import { z } from "zod";

const numeric = z.union([z.string(), z.number()]).transform((v) => Number(v));

const Connected = z.object({ event: z.literal("connected"), protocol: z.string().optional() });

const Start = z.object({
  event: z.literal("start"),
  sequenceNumber: numeric.optional(),
  streamSid: z.string().min(1),
  start: z.object({
    streamSid: z.string().optional(),
    accountSid: z.string().optional(),
    callSid: z.string().min(1),
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string(), z.string()).default({}),
    mediaFormat: z.object({ encoding: z.string(), sampleRate: z.number(), channels: z.number() }).optional(),
  }),
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const Media = z.object({
  event: z.literal("media"),
  sequenceNumber: numeric.optional(),
  streamSid: z.string().optional(),
  media: z.object({
    track: z.string().optional(),
    chunk: numeric.optional(),
    timestamp: numeric,
    payload: z.string().regex(BASE64, "payload must be base64"),
  }),
});

const Mark = z.object({
  event: z.literal("mark"),
  sequenceNumber: numeric.optional(),
  streamSid: z.string().optional(),
  mark: z.object({ name: z.string() }),
});

const Dtmf = z.object({
  event: z.literal("dtmf"),
  sequenceNumber: numeric.optional(),
  streamSid: z.string().optional(),
  dtmf: z.object({ track: z.string().optional(), digit: z.string().regex(/^[0-9*#A-D]$/) }),
});

const Stop = z.object({
  event: z.literal("stop"),
  sequenceNumber: numeric.optional(),
  streamSid: z.string().optional(),
  stop: z.object({ accountSid: z.string().optional(), callSid: z.string().optional() }).optional(),
});

export const InboundFrameSchema = z.discriminatedUnion("event", [Connected, Start, Media, Mark, Dtmf, Stop]);
export type InboundFrame = z.infer<typeof InboundFrameSchema>;
export type StartFrame = z.infer<typeof Start>;

export type ParsedFrame = { ok: true; frame: InboundFrame } | { ok: false; reason: string };

type MediaFrame = z.infer<typeof Media>;

const isNumeric = (v: unknown): v is string | number => typeof v === "string" || typeof v === "number";
const isOptional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || test(v);
const isString = (v: unknown): v is string => typeof v === "string";

/**
 * The hot path: a call sends 50 media frames a second. A well-formed one is checked by hand and
 * gives exactly what the schema would; anything else returns null and goes through the schema,
 * which also produces the reason a frame is dropped.
 */
function wellFormedMedia(json: unknown): MediaFrame | null {
  if (typeof json !== "object" || json === null) return null;
  const o = json as Record<string, unknown>;
  if (o.event !== "media" || typeof o.media !== "object" || o.media === null) return null;
  const m = o.media as Record<string, unknown>;
  if (
    !isNumeric(m.timestamp) ||
    !isString(m.payload) ||
    !BASE64.test(m.payload) ||
    !isOptional(m.track, isString) ||
    !isOptional(m.chunk, isNumeric) ||
    !isOptional(o.sequenceNumber, isNumeric) ||
    !isOptional(o.streamSid, isString)
  ) {
    return null;
  }
  const frame: MediaFrame = {
    event: "media",
    media: { timestamp: Number(m.timestamp), payload: m.payload },
  };
  if (m.track !== undefined) frame.media.track = m.track as string;
  if (m.chunk !== undefined) frame.media.chunk = Number(m.chunk);
  if (o.sequenceNumber !== undefined) frame.sequenceNumber = Number(o.sequenceNumber);
  if (o.streamSid !== undefined) frame.streamSid = o.streamSid as string;
  return frame;
}

/** Parse one text frame from Twilio. Never throws. */
export function parseInboundFrame(data: string | ArrayBuffer): ParsedFrame {
  if (typeof data !== "string") return { ok: false, reason: "binary frame (Twilio sends text JSON)" };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  const media = wellFormedMedia(json);
  if (media) return { ok: true, frame: media };
  const r = InboundFrameSchema.safeParse(json);
  if (r.success) return { ok: true, frame: r.data };
  const issue = r.error.issues[0];
  return { ok: false, reason: `${issue?.path.join(".") || "frame"}: ${issue?.message ?? "invalid"}` };
}

/** Outbound frames we send to Twilio. */
export type OutboundFrame =
  | { event: "media"; streamSid: string; media: { payload: string } }
  | { event: "mark"; streamSid: string; mark: { name: string } }
  | { event: "clear"; streamSid: string };
