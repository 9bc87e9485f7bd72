import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { recordingObjectKey } from "../../src/call/recording-store";
import { app } from "../../src/index";
import { purgeExpired } from "../../src/privacy/erasure";
import { insertEventBatch } from "../../src/store/event-store";
import { neonConnect } from "../../src/store/neon";
import { query } from "../support/audit";
import { newCallSid } from "../support/twilio-media-client";

const TOKEN = "test-admin-token-erasure-0123";
const bindings = { ...env, ADMIN_TOKEN: TOKEN };
const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };

async function seedCall(callSid: string, endedAtMs: number): Promise<void> {
  const { session, release } = await neonConnect({
    databaseUrl: e.DATABASE_URL,
    wsProxyUrl: e.NEON_WS_PROXY,
  })();
  const ev = (
    seq: number,
    type: string,
    payload: Record<string, unknown>,
    atMs = endedAtMs - 60_000 + seq,
  ) => ({
    id: crypto.randomUUID(),
    callSid,
    seq,
    type,
    atMs,
    payload,
  });
  try {
    await insertEventBatch(session, [
      ev(0, "call.started", {
        direction: "outbound",
        from: "+442071234567",
        to: "+447700900777",
        flowId: "outbound-booking",
      }),
      ev(1, "flow.turn", { state: "greeting", branch: "yes", text: "yes this is Sam Jones" }),
      ev(2, "flow.capture", { state: "qualify", key: "email", value: "sam@example.co.uk" }),
      ev(3, "opt_out.recorded", { phone: "+447700900777", source: "call" }),
      ev(4, "call.ended", { outcome: "opt_out", durationMs: 60_000 }, endedAtMs),
      // Personal keys nested inside a payload go too.
      ev(5, "action.result", { action: "crm_note", result: { contact: { email: "sam@example.co.uk" } } }),
    ]);
  } finally {
    await release();
  }
  await env.MEDIA.put(recordingObjectKey(callSid), new Uint8Array(100));
}

async function erase(callSid: string, token = TOKEN): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`https://agent.example/admin/calls/${callSid}/erase`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    }),
    bindings,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("erasure of a call's recording and transcript", () => {
  it("deletes the recording, strips words and personal fields, keeps the opt-out, and records the erasure", async () => {
    const callSid = newCallSid();
    await seedCall(callSid, Date.now());
    expect((await erase(callSid, "wrong-token")).status).toBe(401);
    const res = await erase(callSid);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ callSid, recordingDeleted: true });
    expect(await env.MEDIA.head(recordingObjectKey(callSid))).toBeNull();
    const rows = await query<{ type: string; payload: Record<string, unknown> }>(
      "SELECT type, payload FROM call_events WHERE call_sid = $1 ORDER BY seq",
      [callSid],
    );
    const text = JSON.stringify(rows);
    expect(text).not.toContain("Sam Jones");
    expect(text).not.toContain("sam@example.co.uk");
    expect(rows.find((r) => r.type === "opt_out.recorded")?.payload.phone).toBe("+447700900777");
    const audit = await query<{ type: string }>("SELECT type FROM call_events WHERE call_sid = $1", [
      `erasure:${callSid}`,
    ]);
    expect(audit.map((r) => r.type)).toEqual(["call.erased"]);
    const suppressed = await query("SELECT 1 FROM suppressions WHERE phone = $1", ["+447700900777"]);
    expect(suppressed.length).toBeGreaterThan(0);
  });

  it("erases calls past the retention period and leaves recent ones", async () => {
    const old = newCallSid();
    const recent = newCallSid();
    await seedCall(old, Date.now() - 40 * 86_400_000);
    await seedCall(recent, Date.now());
    const { session, release } = await neonConnect({
      databaseUrl: e.DATABASE_URL,
      wsProxyUrl: e.NEON_WS_PROXY,
    })();
    try {
      const { erased } = await purgeExpired({ session, bucket: env.MEDIA, nowMs: Date.now() }, 30);
      expect(erased.map((r) => r.callSid)).toContain(old);
      expect(erased.map((r) => r.callSid)).not.toContain(recent);
    } finally {
      await release();
    }
    expect(await env.MEDIA.head(recordingObjectKey(old))).toBeNull();
    expect(await env.MEDIA.head(recordingObjectKey(recent))).not.toBeNull();
  });

  it("keeps erasing batch after batch until nothing is due, and a run cut short by its time budget resumes", async () => {
    const old = [newCallSid(), newCallSid(), newCallSid(), newCallSid(), newCallSid()];
    for (const [i, sid] of old.entries()) await seedCall(sid, Date.now() - 50 * 86_400_000 + i);
    const { session, release } = await neonConnect({
      databaseUrl: e.DATABASE_URL,
      wsProxyUrl: e.NEON_WS_PROXY,
    })();
    try {
      // A clock that moves 1 ms per look (the first look starts the budget): 4 ms last three erasures.
      let t = 0;
      const first = await purgeExpired({ session, bucket: env.MEDIA, nowMs: Date.now() }, 30, {
        batch: 2,
        budgetMs: 4,
        clock: () => t++,
      });
      expect(first.done).toBe(false);
      expect(first.erased.length).toBe(3);
      const second = await purgeExpired({ session, bucket: env.MEDIA, nowMs: Date.now() }, 30, { batch: 2 });
      expect(second.done).toBe(true);
      const all = [...first.erased, ...second.erased].map((r) => r.callSid);
      for (const sid of old) expect(all).toContain(sid);
      expect(new Set(all).size).toBe(all.length);
    } finally {
      await release();
    }
    for (const sid of old) expect(await env.MEDIA.head(recordingObjectKey(sid))).toBeNull();
  });
});
