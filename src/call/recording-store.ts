/**
 * Writes a call recording to R2 as one standard stereo µ-law WAV (format 7, 2 channels, 8 kHz) under
 * `recordings/{callSid}.wav`, the key the dashboard serves.
 *
 * Short recordings are a single `put`. Long ones use a multipart upload with equal-size parts (R2 wants
 * every part but the last the same size, ≥ 5 MiB): parts 2..N are uploaded while the call runs, and part 1
 * — the WAV header followed by the first data bytes — is held back and uploaded last, once the sizes in
 * the header are known. Part numbers, not upload order, decide the object's layout, so the file is one
 * correct WAV and memory stays at about two parts whatever the call's length.
 */
import { wavHeader, wavHeaderLength } from "../audio/wav";
import { Recorder, type RecordingTotals } from "./recorder";

/** R2 key of a call's recording (the dashboard's `recordingKey` serves the same key). */
export function recordingObjectKey(callSid: string): string {
  return `recordings/${callSid}.wav`;
}

/** Audit event type written once a recording is in R2 (payload: `StoredRecording`). */
export const RECORDING_STORED_EVENT = "recording_stored";

/** R2's minimum size of every multipart part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** The slice of R2 the writer uses. */
export type RecordingBucket = Pick<R2Bucket, "put" | "createMultipartUpload">;

/** What was stored: the `recording_stored` event's payload. */
export interface StoredRecording {
  key: string;
  durationMs: number;
  /** Size of the whole WAV file in bytes. */
  bytes: number;
  parts: number;
}

/** Streams one recording's interleaved data into R2. `write` never blocks the call; `finish` waits. */
export class RecordingUpload {
  private readonly headerBytes = wavHeaderLength("mulaw");
  /** Part 1: header room then the first data bytes; uploaded last. */
  private readonly first: Uint8Array;
  private firstLen: number;
  private current: Uint8Array | null = null;
  private currentLen = 0;
  private nextPart = 2;
  private upload: Promise<R2MultipartUpload> | null = null;
  private readonly uploaded: Promise<R2UploadedPart>[] = [];

  constructor(
    private readonly bucket: RecordingBucket,
    readonly key: string,
    private readonly partBytes = MIN_PART_BYTES,
  ) {
    this.first = new Uint8Array(partBytes);
    this.firstLen = this.headerBytes;
  }

  /** Append interleaved stereo µ-law data. */
  write(data: Uint8Array): void {
    let o = 0;
    if (this.firstLen < this.partBytes) {
      const n = Math.min(data.length, this.partBytes - this.firstLen);
      this.first.set(data.subarray(0, n), this.firstLen);
      this.firstLen += n;
      o = n;
    }
    while (o < data.length) {
      this.current ??= new Uint8Array(this.partBytes);
      const n = Math.min(data.length - o, this.partBytes - this.currentLen);
      this.current.set(data.subarray(o, o + n), this.currentLen);
      this.currentLen += n;
      o += n;
      if (this.currentLen === this.partBytes) {
        this.sendPart(this.current);
        this.current = null;
        this.currentLen = 0;
      }
    }
  }

  /** Last bytes and totals from the recorder: upload what is left and complete the object. */
  async finish(last: Uint8Array, totals: RecordingTotals): Promise<StoredRecording> {
    this.write(last);
    const header = wavHeader("mulaw", 2, totals.frames);
    this.first.set(header);
    const bytes = header.length + totals.bytes;
    const stored = { key: this.key, durationMs: Math.round(totals.durationMs), bytes };
    if (!this.upload && this.currentLen === 0) {
      await this.bucket.put(this.key, this.first.slice(0, this.firstLen), {
        httpMetadata: { contentType: "audio/wav" },
      });
      return { ...stored, parts: 1 };
    }
    if (this.current && this.currentLen > 0) this.sendPart(this.current.subarray(0, this.currentLen));
    this.current = null;
    this.currentLen = 0;
    if (!this.upload) throw new Error("recording upload was never started");
    const upload = await this.upload;
    try {
      const parts = await Promise.all([upload.uploadPart(1, this.first), ...this.uploaded]);
      await upload.complete(parts.sort((a, b) => a.partNumber - b.partNumber));
      return { ...stored, parts: parts.length };
    } catch (err) {
      await upload.abort().catch(() => undefined);
      throw err;
    }
  }

  private sendPart(data: Uint8Array): void {
    const partNumber = this.nextPart++;
    this.upload ??= this.bucket.createMultipartUpload(this.key, {
      httpMetadata: { contentType: "audio/wav" },
    });
    const sent = this.upload.then((u) => u.uploadPart(partNumber, data));
    // `finish` reports a failed part; until then the rejection must not count as unhandled.
    sent.catch(() => undefined);
    this.uploaded.push(sent);
  }
}

/** One call's recording in progress: the recorder the engine feeds and the upload its parts go to. */
export interface CallRecording {
  callSid: string;
  recorder: Recorder;
  /** Flush the recorder and complete the object (idempotent: later calls return the same result). */
  store(): Promise<StoredRecording>;
}

/** Start recording a call whose media timestamp 0 is `originMs` (epoch). */
export function startCallRecording(
  bucket: RecordingBucket,
  callSid: string,
  originMs: number,
  partBytes = MIN_PART_BYTES,
): CallRecording {
  const upload = new RecordingUpload(bucket, recordingObjectKey(callSid), partBytes);
  const recorder = new Recorder({ originMs, onPart: (data) => upload.write(data) });
  let stored: Promise<StoredRecording> | null = null;
  return {
    callSid,
    recorder,
    store: () => {
      stored ??= (() => {
        const { last, totals } = recorder.finish();
        return upload.finish(last, totals);
      })();
      return stored;
    },
  };
}
