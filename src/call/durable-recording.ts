/**
 * A call recording that survives its Durable Object being evicted mid-call (a deploy, a restart).
 *
 * The layout is `RecordingUpload`'s (src/call/recording-store.ts): one stereo µ-law WAV, part 1 = the
 * header then the first data bytes, uploaded last; parts 2..N uploaded while the call runs. What would
 * otherwise live only in memory is kept in the object's SQLite storage instead: the multipart upload
 * id, the parts already uploaded (number + etag), the data not yet uploaded (spooled in small rows)
 * and how many frames the recorder had emitted. A fresh instance resumes from there with a recorder
 * that continues the same timeline, so the call still yields one complete object.
 *
 * What can still be lost to an eviction is the recorder's unsettled tail (about its settle margin plus
 * one chunk, ~3 s), never what came before it.
 */
import { wavHeader, wavHeaderLength } from "../audio/wav";
import { Recorder, type RecordingSink, type RecordingTotals } from "./recorder";
import { MIN_PART_BYTES, recordingObjectKey, type StoredRecording } from "./recording-store";

/** The slice of R2 the durable recording uses. */
export type DurableRecordingBucket = Pick<
  R2Bucket,
  "put" | "createMultipartUpload" | "resumeMultipartUpload"
>;

/** The slice of Durable Object storage it uses. */
export type RecordingStorage = Pick<DurableObjectStorage, "sql" | "transactionSync">;

/** Size of each chunk the recorder hands over (and of each spooled row): one second of stereo µ-law. */
export const RECORDING_CHUNK_BYTES = 16_000;

interface RecordingCheckpoint {
  callSid: string;
  key: string;
  originMs: number;
  /** Added to caller media timestamps: a stream opened after a reconnect starts again at 0. */
  callerOffsetMs: number;
  partBytes: number;
  uploadId: string | null;
  /** Parts 2..N already in R2. */
  parts: { partNumber: number; etag: string }[];
  /** Data bytes in part 1 so far (after the header room). */
  firstLen: number;
  /** The part being filled (2 while everything still fits in part 1). */
  currentPart: number;
  currentLen: number;
  /** Data bytes emitted by the recorder(s) so far. */
  emittedBytes: number;
  stopped: boolean;
  status: "recording" | "stored";
}

/** One call's recording in progress, durable across evictions. */
export class DurableRecording implements RecordingSink {
  readonly recorder: Recorder;
  private readonly headerBytes = wavHeaderLength("mulaw");
  private multipart: Promise<R2MultipartUpload> | null = null;
  private readonly uploads = new Map<number, Promise<void>>();
  private stored: Promise<StoredRecording> | null = null;

  private constructor(
    private readonly storage: RecordingStorage,
    private readonly bucket: DurableRecordingBucket,
    private state: RecordingCheckpoint,
    private readonly clock: () => number,
  ) {
    this.recorder = new Recorder({
      originMs: state.originMs,
      startFrames: state.emittedBytes / 2,
      partBytes: RECORDING_CHUNK_BYTES,
      onPart: (data) => this.write(data),
    });
    if (state.stopped) this.recorder.stop(state.originMs);
  }

  /** Create the tables (idempotent). */
  static init(storage: RecordingStorage): void {
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS recording_state (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    );
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS recording_spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, part INTEGER NOT NULL, data BLOB NOT NULL)",
    );
  }

  /** Whether this call's recording was ever started here (then it is resumed, or was already stored). */
  static exists(storage: RecordingStorage): boolean {
    return readState(storage) !== null;
  }

  /** Start recording a call whose media timestamp 0 is `originMs`. */
  static start(
    storage: RecordingStorage,
    bucket: DurableRecordingBucket,
    callSid: string,
    originMs: number,
    clock: () => number,
    partBytes = MIN_PART_BYTES,
  ): DurableRecording {
    const state: RecordingCheckpoint = {
      callSid,
      key: recordingObjectKey(callSid),
      originMs,
      callerOffsetMs: 0,
      partBytes,
      uploadId: null,
      parts: [],
      firstLen: 0,
      currentPart: 2,
      currentLen: 0,
      emittedBytes: 0,
      stopped: false,
      status: "recording",
    };
    storage.sql.exec("DELETE FROM recording_spool");
    writeState(storage, state);
    return new DurableRecording(storage, bucket, state, clock);
  }

  /**
   * Resume the recording a previous instance of this object was making, or null when there is none
   * (or it is already stored). `newStream`: Twilio opened a new media stream, whose timestamps restart.
   */
  static resume(
    storage: RecordingStorage,
    bucket: DurableRecordingBucket,
    clock: () => number,
    newStream: boolean,
  ): DurableRecording | null {
    const state = readState(storage);
    if (state?.status !== "recording") return null;
    if (newStream) {
      state.callerOffsetMs = Math.max(0, clock() - state.originMs);
      writeState(storage, state);
    }
    const recording = new DurableRecording(storage, bucket, state, clock);
    // Parts sealed before the eviction whose upload never confirmed: send them again.
    for (const part of recording.sealedUnsent()) recording.sendPart(part);
    return recording;
  }

  get callSid(): string {
    return this.state.callSid;
  }

  caller(frame: Uint8Array, mediaTimestampMs: number): void {
    // Let settled audio out now: what is spooled survives an eviction, what is in memory does not.
    this.recorder.tick(this.clock());
    this.recorder.caller(frame, mediaTimestampMs + this.state.callerOffsetMs);
  }

  agent(frame: Uint8Array, sentAtMs: number): void {
    this.recorder.agent(frame, sentAtMs);
  }

  cut(atMs: number): void {
    this.recorder.cut(atMs);
  }

  stop(atMs: number): void {
    this.recorder.stop(atMs);
    if (!this.state.stopped) {
      this.state.stopped = true;
      writeState(this.storage, this.state);
    }
  }

  /** Flush the recorder and complete the object (idempotent). */
  store(): Promise<StoredRecording> {
    this.stored ??= (async () => {
      const { last, totals } = this.recorder.finish();
      this.write(last);
      return this.complete(totals);
    })();
    return this.stored;
  }

  /** Append interleaved data to the spool (part 1 first, then the current part), sealing full parts. */
  private write(data: Uint8Array): void {
    if (data.length === 0 || this.state.status !== "recording") return;
    const s = this.state;
    const firstCapacity = s.partBytes - this.headerBytes;
    const sealed: number[] = [];
    this.storage.transactionSync(() => {
      let o = 0;
      while (o < data.length) {
        const inFirst = s.firstLen < firstCapacity;
        const room = inFirst ? firstCapacity - s.firstLen : s.partBytes - s.currentLen;
        const n = Math.min(room, data.length - o);
        const part = inFirst ? 1 : s.currentPart;
        this.storage.sql.exec(
          "INSERT INTO recording_spool (part, data) VALUES (?, ?)",
          part,
          data.slice(o, o + n).buffer,
        );
        if (inFirst) s.firstLen += n;
        else s.currentLen += n;
        o += n;
        if (!inFirst && s.currentLen === s.partBytes) {
          sealed.push(s.currentPart);
          s.currentPart += 1;
          s.currentLen = 0;
        }
      }
      s.emittedBytes += data.length;
      writeState(this.storage, s);
    });
    for (const part of sealed) this.sendPart(part);
  }

  /** Full parts still in the spool (not the one being filled, not part 1). */
  private sealedUnsent(): number[] {
    return this.storage.sql
      .exec<{ part: number }>(
        "SELECT DISTINCT part FROM recording_spool WHERE part > 1 AND part < ? ORDER BY part",
        this.state.currentPart,
      )
      .toArray()
      .map((r) => r.part);
  }

  private spooled(part: number): Uint8Array {
    const rows = this.storage.sql
      .exec<{ data: ArrayBuffer }>("SELECT data FROM recording_spool WHERE part = ? ORDER BY seq", part)
      .toArray();
    const out = new Uint8Array(rows.reduce((n, r) => n + r.data.byteLength, 0));
    let o = 0;
    for (const r of rows) {
      out.set(new Uint8Array(r.data), o);
      o += r.data.byteLength;
    }
    return out;
  }

  private upload(): Promise<R2MultipartUpload> {
    this.multipart ??= (async () => {
      const s = this.state;
      if (s.uploadId) return this.bucket.resumeMultipartUpload(s.key, s.uploadId);
      const created = await this.bucket.createMultipartUpload(s.key, {
        httpMetadata: { contentType: "audio/wav" },
      });
      s.uploadId = created.uploadId;
      writeState(this.storage, s);
      return created;
    })();
    // A failure is reported by `store`; a later part tries again.
    this.multipart.catch(() => {
      this.multipart = null;
    });
    return this.multipart;
  }

  /** Upload a spooled part; once R2 confirms it, its etag is kept and its rows are dropped. */
  private sendPart(part: number): void {
    if (this.uploads.has(part)) return;
    const sent = (async () => {
      const upload = await this.upload();
      const uploaded = await upload.uploadPart(part, this.spooled(part));
      this.storage.transactionSync(() => {
        this.state.parts = [
          ...this.state.parts.filter((p) => p.partNumber !== part),
          { partNumber: uploaded.partNumber, etag: uploaded.etag },
        ];
        writeState(this.storage, this.state);
        this.storage.sql.exec("DELETE FROM recording_spool WHERE part = ?", part);
      });
    })();
    // `store` reports a failed part (and retries it); until then it must not count as unhandled.
    sent.catch(() => this.uploads.delete(part));
    this.uploads.set(part, sent);
  }

  private async complete(totals: RecordingTotals): Promise<StoredRecording> {
    const s = this.state;
    const header = wavHeader("mulaw", 2, totals.frames);
    const first = new Uint8Array(header.length + s.firstLen);
    first.set(header);
    first.set(this.spooled(1), header.length);
    const stored = {
      key: s.key,
      durationMs: Math.round(totals.durationMs),
      bytes: header.length + totals.bytes,
    };
    if (s.uploadId === null && s.currentPart === 2 && s.currentLen === 0) {
      await this.bucket.put(s.key, first, { httpMetadata: { contentType: "audio/wav" } });
      this.markStored();
      return { ...stored, parts: 1 };
    }
    if (s.currentLen > 0) {
      // The last part may be short: seal it as it is.
      s.currentPart += 1;
      s.currentLen = 0;
      writeState(this.storage, s);
    }
    await Promise.allSettled([...this.uploads.values()]);
    for (const part of this.sealedUnsent()) this.sendPart(part);
    await Promise.all([...this.uploads.values()]);
    const upload = await this.upload();
    const firstPart = await upload.uploadPart(1, first);
    const parts = [firstPart, ...s.parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag }))].sort(
      (a, b) => a.partNumber - b.partNumber,
    );
    await upload.complete(parts);
    this.markStored();
    return { ...stored, parts: parts.length };
  }

  private markStored(): void {
    this.storage.transactionSync(() => {
      this.state.status = "stored";
      writeState(this.storage, this.state);
      this.storage.sql.exec("DELETE FROM recording_spool");
    });
  }
}

function readState(storage: RecordingStorage): RecordingCheckpoint | null {
  const row = storage.sql
    .exec<{ json: string }>("SELECT json FROM recording_state WHERE id = 1")
    .toArray()[0];
  return row ? (JSON.parse(row.json) as RecordingCheckpoint) : null;
}

function writeState(storage: RecordingStorage, state: RecordingCheckpoint): void {
  storage.sql.exec(
    "INSERT INTO recording_state (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
    JSON.stringify(state),
  );
}
