/** Seeds dashboard tests: calls of a fresh campaign written through insertEventBatch (events + projections). */
import { insertEventBatch } from "../../src/store/event-store";
import type { SqlSession } from "../../src/store/sql-client";
import { bookedCall, CallBuilder, IN_WINDOW_MS, LATE_MS } from "../qa/call-builder";

/** A unique id for this run (CallSids and campaigns). */
export function uniqueId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
}

/** A call that goes wrong: greeted, talked over, pitched after an opt-out, slow turns, no suppression. */
export function badCall(callSid: string, campaignId: string, atMs = IN_WINDOW_MS): CallBuilder {
  return new CallBuilder(callSid, atMs)
    .start({ campaignId })
    .greet()
    .amd("human")
    .bargeIn(1)
    .turn("yes", "Yes, who is this?")
    .enter("qualify", "yes")
    .latency(1, 2_400, "live")
    .turn("opt_out", "Please stop calling me", { matched: false })
    .enter("book", "positive")
    .latency(2, 1_900, "live")
    .end("close");
}

/** Seed one booked and one bad call of `campaignId`; returns their CallSids. */
export async function seedPair(
  session: SqlSession,
  campaignId: string,
): Promise<{ good: string; bad: string }> {
  const good = uniqueId("CA");
  const bad = uniqueId("CA");
  await insertEventBatch(session, [
    ...bookedCall(good, IN_WINDOW_MS, campaignId).events,
    ...badCall(bad, campaignId, IN_WINDOW_MS + 60_000).events,
  ]);
  return { good, bad };
}

/** Seed `n` calls of `campaignId`, one minute apart, every 7th outside the calling window. */
export async function seedMany(
  session: SqlSession,
  campaignId: string,
  n: number,
  batch = 200,
): Promise<string[]> {
  const sids: string[] = [];
  for (let start = 0; start < n; start += batch) {
    const events = [];
    for (let i = start; i < Math.min(n, start + batch); i++) {
      const sid = `${campaignId}x${String(i).padStart(6, "0")}`;
      sids.push(sid);
      const at = (i % 7 === 0 ? LATE_MS : IN_WINDOW_MS) - i * 60_000;
      events.push(...(i % 5 === 0 ? badCall(sid, campaignId, at) : bookedCall(sid, at, campaignId)).events);
    }
    await insertEventBatch(session, events);
  }
  return sids;
}

/** A short valid WAV (8 kHz 16-bit PCM mono, a 440 Hz tone), as a browser can decode it. */
export function tinyWav(samples = 4000): Uint8Array {
  const bytes = samples * 2;
  const out = new Uint8Array(44 + bytes);
  const v = new DataView(out.buffer);
  const ascii = (o: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[o + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + bytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, 8000, true);
  v.setUint32(28, 16000, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, bytes, true);
  for (let i = 0; i < samples; i++)
    v.setInt16(44 + i * 2, Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), true);
  return out;
}
