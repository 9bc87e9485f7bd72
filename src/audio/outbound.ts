/**
 * Outbound pacing: µ-law bytes of any size -> marked chunks of whole 160-byte / 20 ms frames. Each chunk
 * goes to Twilio as one `media` message (Twilio buffers payloads of any size and plays them in order)
 * followed by its `mark`, so the Worker handles two messages per 100 ms of speech instead of six.
 */
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE } from "./mulaw";

/** Whole frames to send as one `media` message, followed by one `mark` named `markName`. */
export interface OutboundChunk {
  utteranceId: string;
  chunkIndex: number;
  markName: string;
  /** The chunk's audio: a whole number of 160-byte frames, in play order. */
  audio: Uint8Array;
  /** Number of 20 ms frames in `audio`. */
  frameCount: number;
  byteCount: number;
  durationMs: number;
  /** True for the chunk produced by `flush()` (the utterance's last). */
  final: boolean;
}

/** Splits one utterance's audio stream into marked chunks. */
export interface OutboundChunker {
  /** Accepts bytes as they arrive; returns the chunks that are complete. Any remainder waits for more. */
  push(bytes: Uint8Array): OutboundChunk[];
  /** Ends the utterance: pads the last partial frame with µ-law silence and returns what is left. */
  flush(): OutboundChunk[];
  /** Bytes held back waiting for a full frame or chunk. */
  readonly pendingBytes: number;
}

/** Options for `createOutboundChunker`. */
export interface OutboundChunkerOptions {
  utteranceId: string;
  /** Frames per marked chunk (default 5 = 100 ms: the resolution of "what the caller heard"). */
  framesPerChunk?: number;
  /** Mark name for a chunk (default `${utteranceId}:${chunkIndex}`). */
  markName?: (utteranceId: string, chunkIndex: number) => string;
}

/** Creates a chunker for one utterance. */
export function createOutboundChunker(options: OutboundChunkerOptions): OutboundChunker {
  const framesPerChunk = Math.max(1, Math.floor(options.framesPerChunk ?? 5));
  const name = options.markName ?? ((id: string, i: number) => `${id}:${i}`);
  const chunkBytes = framesPerChunk * FRAME_BYTES;
  // Pending bytes live in one growable buffer so arbitrary input sizes cost one copy each.
  let buffer = new Uint8Array(chunkBytes * 2);
  let length = 0;
  let chunkIndex = 0;
  let flushed = false;

  const makeChunk = (data: Uint8Array, final: boolean): OutboundChunk => {
    const frameCount = data.length / FRAME_BYTES;
    const index = chunkIndex++;
    return {
      utteranceId: options.utteranceId,
      chunkIndex: index,
      markName: name(options.utteranceId, index),
      audio: data.slice(),
      frameCount,
      byteCount: data.length,
      durationMs: frameCount * FRAME_MS,
      final,
    };
  };

  return {
    get pendingBytes() {
      return length;
    },
    push(bytes: Uint8Array): OutboundChunk[] {
      if (flushed) throw new Error("outbound chunker: push after flush");
      if (length + bytes.length > buffer.length) {
        const grown = new Uint8Array(Math.max(buffer.length * 2, length + bytes.length));
        grown.set(buffer.subarray(0, length));
        buffer = grown;
      }
      buffer.set(bytes, length);
      length += bytes.length;
      const chunks: OutboundChunk[] = [];
      let offset = 0;
      while (length - offset >= chunkBytes) {
        chunks.push(makeChunk(buffer.subarray(offset, offset + chunkBytes), false));
        offset += chunkBytes;
      }
      if (offset > 0) {
        buffer.copyWithin(0, offset, length);
        length -= offset;
      }
      return chunks;
    },
    flush(): OutboundChunk[] {
      if (flushed) return [];
      flushed = true;
      if (length === 0) return [];
      const padded = new Uint8Array(Math.ceil(length / FRAME_BYTES) * FRAME_BYTES).fill(MULAW_SILENCE);
      padded.set(buffer.subarray(0, length));
      length = 0;
      return [makeChunk(padded, true)];
    },
  };
}
