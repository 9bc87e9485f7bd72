/** Stereo call-recording WAV (caller left, agent right) as µ-law (format 7) or PCM16, and a parser to read it back. */
import { decodeMulawSample, MULAW_SILENCE, SAMPLE_RATE } from "./mulaw";

/** Sample format of the WAV data: G.711 µ-law (WAVE_FORMAT_MULAW = 7) or linear PCM16 (1). */
export type WavFormat = "mulaw" | "pcm16";

const FORMAT_TAG: Record<WavFormat, number> = { mulaw: 7, pcm16: 1 };

/** Bytes per sample per channel. */
function sampleBytes(format: WavFormat): number {
  return format === "mulaw" ? 1 : 2;
}

/** Length of the header written by `wavHeader` (RIFF + fmt [+ fact] + data chunk header). */
export function wavHeaderLength(format: WavFormat): number {
  // Non-PCM formats carry an 18-byte fmt (cbSize) and a fact chunk, as the RIFF spec asks.
  return format === "mulaw" ? 12 + 26 + 12 + 8 : 12 + 24 + 8;
}

/**
 * A RIFF/WAVE header for `frames` sample frames. Exposed on its own so long recordings can be streamed in
 * parts (header first, then interleaved data from `interleaveStereo`) without holding the call in memory.
 */
export function wavHeader(
  format: WavFormat,
  channels: number,
  frames: number,
  sampleRate = SAMPLE_RATE,
): Uint8Array {
  const bytesPerSample = sampleBytes(format);
  const dataLength = frames * channels * bytesPerSample;
  const headerLength = wavHeaderLength(format);
  const out = new Uint8Array(headerLength);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, headerLength - 8 + dataLength + (dataLength % 2), true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  const fmtSize = format === "mulaw" ? 18 : 16;
  view.setUint32(16, fmtSize, true);
  view.setUint16(20, FORMAT_TAG[format], true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let o = 36;
  if (format === "mulaw") {
    view.setUint16(o, 0, true); // cbSize
    o += 2;
    ascii(o, "fact");
    view.setUint32(o + 4, 4, true);
    view.setUint32(o + 8, frames, true);
    o += 12;
  }
  ascii(o, "data");
  view.setUint32(o + 4, dataLength, true);
  return out;
}

/**
 * Interleaves two µ-law tracks (left, right) into WAV data of `format`; the shorter track is padded
 * with silence so both channels keep their time offsets.
 */
export function interleaveStereo(left: Uint8Array, right: Uint8Array, format: WavFormat): Uint8Array {
  const frames = Math.max(left.length, right.length);
  if (format === "mulaw") {
    const out = new Uint8Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      out[2 * i] = left[i] ?? MULAW_SILENCE;
      out[2 * i + 1] = right[i] ?? MULAW_SILENCE;
    }
    return out;
  }
  const out = new Uint8Array(frames * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < frames; i++) {
    view.setInt16(4 * i, decodeMulawSample(left[i] ?? MULAW_SILENCE), true);
    view.setInt16(4 * i + 2, decodeMulawSample(right[i] ?? MULAW_SILENCE), true);
  }
  return out;
}

/** A whole stereo WAV file: caller µ-law on the left channel, agent µ-law on the right. */
export function encodeStereoWav(
  caller: Uint8Array,
  agent: Uint8Array,
  format: WavFormat = "mulaw",
): Uint8Array {
  const data = interleaveStereo(caller, agent, format);
  const frames = Math.max(caller.length, agent.length);
  const header = wavHeader(format, 2, frames);
  const out = new Uint8Array(header.length + data.length + (data.length % 2));
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** A decoded WAV: format fields and each channel's samples as PCM16. */
export interface ParsedWav {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  frames: number;
  durationMs: number;
  /** Per channel, decoded to PCM16. */
  samples: Int16Array[];
  /** Raw data chunk. */
  data: Uint8Array;
}

/** Parses a RIFF/WAVE file in µ-law (7) or PCM16 (1); throws on anything else. */
export function parseWav(bytes: Uint8Array): ParsedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE")
    throw new Error("wav: not a RIFF/WAVE file");
  let fmt: { formatTag: number; channels: number; sampleRate: number; bits: number } | undefined;
  let data: Uint8Array | undefined;
  let o = 12;
  while (o + 8 <= bytes.length) {
    const id = tag(o);
    const size = view.getUint32(o + 4, true);
    const body = o + 8;
    if (id === "fmt ") {
      fmt = {
        formatTag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      data = bytes.subarray(body, Math.min(bytes.length, body + size));
    }
    o = body + size + (size % 2);
  }
  if (!fmt || !data) throw new Error("wav: missing fmt or data chunk");
  const format: WavFormat | undefined =
    fmt.formatTag === 7 && fmt.bits === 8
      ? "mulaw"
      : fmt.formatTag === 1 && fmt.bits === 16
        ? "pcm16"
        : undefined;
  if (!format || fmt.channels < 1) throw new Error("wav: unsupported format");
  const bytesPerFrame = fmt.channels * sampleBytes(format);
  const frames = Math.floor(data.length / bytesPerFrame);
  const samples = Array.from({ length: fmt.channels }, () => new Int16Array(frames));
  const dataView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < fmt.channels; c++) {
      const ch = samples[c];
      if (!ch) continue;
      ch[i] =
        format === "mulaw"
          ? decodeMulawSample(data[i * bytesPerFrame + c] ?? MULAW_SILENCE)
          : dataView.getInt16(i * bytesPerFrame + c * 2, true);
    }
  }
  return {
    format,
    channels: fmt.channels,
    sampleRate: fmt.sampleRate,
    bitsPerSample: fmt.bits,
    frames,
    durationMs: (frames * 1000) / fmt.sampleRate,
    samples,
    data,
  };
}
