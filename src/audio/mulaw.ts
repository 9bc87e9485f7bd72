/** G.711 µ-law codec, base64 without Buffer, and frame levels: pure maths shared by workerd and Node. */

/** µ-law encoder bias (G.711 / Sun reference implementation). */
const BIAS = 0x84;
/** Largest magnitude the 14-bit µ-law segment scheme can represent before bias. */
const CLIP = 32635;

/** µ-law byte of digital silence (positive zero). */
export const MULAW_SILENCE = 0xff;
/** Samples per second of Twilio media. */
export const SAMPLE_RATE = 8000;
/** Milliseconds per Twilio media frame. */
export const FRAME_MS = 20;
/** Bytes (= samples) per 20 ms µ-law frame at 8 kHz. */
export const FRAME_BYTES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** Level reported for digital silence instead of -Infinity, so levels stay finite numbers. */
export const DBFS_FLOOR = -100;

const DECODE_TABLE: Int16Array = buildDecodeTable();
const ENCODE_TABLE: Uint8Array = buildEncodeTable();

function buildDecodeTable(): Int16Array {
  const table = new Int16Array(256);
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff;
    const exponent = (u >> 4) & 0x07;
    const mantissa = u & 0x0f;
    const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    table[i] = u & 0x80 ? -magnitude : magnitude;
  }
  return table;
}

function encodeSample(sample: number): number {
  let pcm = sample;
  const sign = pcm < 0 ? 0x80 : 0;
  if (sign) pcm = -pcm;
  if (pcm > CLIP) pcm = CLIP;
  pcm += BIAS;
  // Exponent = position of the highest set bit above bit 7 (segment number 0..7).
  let exponent = 7;
  for (let mask = 0x4000; (pcm & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (pcm >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function buildEncodeTable(): Uint8Array {
  // Indexed by the sample as an unsigned 16-bit value: one lookup per sample on the hot path.
  const table = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = encodeSample(i < 32768 ? i : i - 65536);
  return table;
}

/** Decodes one µ-law byte to a 16-bit linear sample. */
export function decodeMulawSample(byte: number): number {
  return DECODE_TABLE[byte & 0xff] ?? 0;
}

/** Encodes one 16-bit linear sample (clamped to the int16 range) to a µ-law byte. */
export function encodeMulawSample(sample: number): number {
  const clamped = sample > 32767 ? 32767 : sample < -32768 ? -32768 : Math.trunc(sample);
  return ENCODE_TABLE[clamped & 0xffff] ?? MULAW_SILENCE;
}

/** Decodes µ-law bytes to PCM16 samples. */
export function mulawToPcm(mulaw: Uint8Array): Int16Array {
  const out = new Int16Array(mulaw.length);
  for (let i = 0; i < mulaw.length; i++) out[i] = DECODE_TABLE[mulaw[i] ?? MULAW_SILENCE] ?? 0;
  return out;
}

/** Encodes PCM16 samples to µ-law bytes. */
export function pcmToMulaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = ENCODE_TABLE[(pcm[i] ?? 0) & 0xffff] ?? MULAW_SILENCE;
  return out;
}

/** RMS level of PCM16 samples in dBFS (full-scale square wave = 0 dBFS); `DBFS_FLOOR` for silence. */
export function dbfs(pcm: Int16Array | Float32Array): number {
  if (pcm.length === 0) return DBFS_FLOOR;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i] ?? 0;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / pcm.length);
  if (rms <= 0) return DBFS_FLOOR;
  return Math.max(DBFS_FLOOR, 20 * Math.log10(rms / 32768));
}

/** RMS level of µ-law bytes in dBFS, without allocating a PCM copy. */
export function mulawDbfs(mulaw: Uint8Array): number {
  if (mulaw.length === 0) return DBFS_FLOOR;
  let sum = 0;
  for (let i = 0; i < mulaw.length; i++) {
    const s = DECODE_TABLE[mulaw[i] ?? MULAW_SILENCE] ?? 0;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / mulaw.length);
  if (rms <= 0) return DBFS_FLOOR;
  return Math.max(DBFS_FLOOR, 20 * Math.log10(rms / 32768));
}

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_ENCODE = new Uint8Array(64);
const B64_DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  const code = B64_ALPHABET.charCodeAt(i);
  B64_ENCODE[i] = code;
  B64_DECODE[code] = i;
}
// Accept the URL-safe alphabet too: it costs nothing and avoids a class of provider quirks.
B64_DECODE["-".charCodeAt(0)] = 62;
B64_DECODE["_".charCodeAt(0)] = 63;

// Base64 output is ASCII, hence valid UTF-8: the default decoder works in every runtime.
const textDecoder = new TextDecoder();

/** Standard base64 (with padding) of bytes; works in workerd and Node without Buffer. */
export function bytesToBase64(bytes: Uint8Array): string {
  const outLen = Math.ceil(bytes.length / 3) * 4;
  const out = new Uint8Array(outLen);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out[o++] = B64_ENCODE[(n >> 18) & 63] ?? 0;
    out[o++] = B64_ENCODE[(n >> 12) & 63] ?? 0;
    out[o++] = B64_ENCODE[(n >> 6) & 63] ?? 0;
    out[o++] = B64_ENCODE[n & 63] ?? 0;
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = ((bytes[i] ?? 0) << 16) | (rest === 2 ? (bytes[i + 1] ?? 0) << 8 : 0);
    out[o++] = B64_ENCODE[(n >> 18) & 63] ?? 0;
    out[o++] = B64_ENCODE[(n >> 12) & 63] ?? 0;
    out[o++] = rest === 2 ? (B64_ENCODE[(n >> 6) & 63] ?? 0) : 61;
    out[o++] = 61; // "="
  }
  return textDecoder.decode(out);
}

/**
 * Decodes standard or URL-safe base64 (padding optional, ASCII whitespace ignored).
 * Throws a TypeError on any other character, so a corrupt media payload is caught at the boundary.
 */
export function base64ToBytes(base64: string): Uint8Array {
  const out = new Uint8Array(Math.floor((base64.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < base64.length; i++) {
    const code = base64.charCodeAt(i);
    if (code === 61) break; // "=": padding ends the data
    if (code === 32 || code === 10 || code === 13 || code === 9) continue;
    const v = code < 256 ? (B64_DECODE[code] ?? -1) : -1;
    if (v < 0) throw new TypeError(`invalid base64 character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.slice(0, o);
}
