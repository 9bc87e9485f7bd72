import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { recordingObjectKey } from "../../src/call/recording-store";
import { configFor } from "../../src/config/context";
import { app } from "../../src/index";
import { sha256Hex } from "../../src/integrations/crypto";
import { EDGE_SHARDS, edgePortsFor } from "../../src/lead/edge-ports";
import { suppressionHash } from "../../src/lead/edge-store";
import { isSuppressedInDb } from "../../src/lead/records";
import { transcriptObjectKey } from "../../src/privacy/erasure";
import { callStateKey } from "../../src/store/call-state";
import { neonConnect } from "../../src/store/neon";
import { createUpstashClient } from "../../src/store/upstash-state";
import { auditTrail, callStub, query } from "../support/audit";
import { fixture, newCallSid, scriptCaller, TwilioMediaClient } from "../support/twilio-media-client";

const speech = inject("speechFixtures");
const TOKEN = "test-admin-token-subject-erasure-01";
const e = env as unknown as {
  DATABASE_URL: string;
  NEON_WS_PROXY: string;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
};

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Rows of every table in the database whose text form contains `needle`, as `table: row`. */
async function postgresHits(needle: string): Promise<string[]> {
  const tables = await query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const hits: string[] = [];
  for (const { table_name } of tables) {
    const rows = await query<{ row: string }>(
      `SELECT t::text AS row FROM "${table_name}" t WHERE strpos(lower(t::text), lower($1)) > 0`,
      [needle],
    );
    for (const r of rows) hits.push(`${table_name}: ${r.row}`);
  }
  return hits;
}

/** Everything the call's Durable Object stores (every SQLite table, every KV key), as text. */
async function durableObjectDump(callSid: string): Promise<string> {
  return runInDurableObject(callStub(callSid), async (_instance, state) => {
    const out: string[] = [];
    const tables = state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
      )
      .toArray();
    for (const { name } of tables) {
      for (const row of state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray()) {
        out.push(
          `${name}: ${JSON.stringify(row, (_k, v) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v))}`,
        );
      }
    }
    for (const [k, v] of await state.storage.list()) out.push(`kv ${k}: ${JSON.stringify(v)}`);
    return out.join("\n");
  });
}

async function seedOtherStores(callSid: string, phone: string, email: string): Promise<void> {
  const tag = callSid.slice(2, 14);
  const now = new Date();
  await query(
    "INSERT INTO leads (id, call_sid, name, email, phone, intent, source, created_at) VALUES ($1, $2, 'Sam Jones', $3, $4, 'demo', 'web', $5)",
    [`lead-${tag}`, callSid, email, phone, now],
  );
  await query(
    "INSERT INTO bookings (uid, call_sid, attendee_name, attendee_email, attendee_phone, start_at, status, updated_at) VALUES ($1, $2, 'Sam Jones', $3, $4, $5, 'accepted', $5)",
    [`bk-${tag}`, callSid, email, phone, now],
  );
  await query(
    `INSERT INTO campaigns (id, flow_id, caller_id, time_zone, calling_window, max_concurrent, pacing_per_minute, retry_policy, created_at)
     VALUES ($1, 'outbound-booking', '+442071234567', 'Europe/London', '{}'::jsonb, 1, 1, '{}'::jsonb, $2)`,
    [`camp-${tag}`, now],
  );
  await query(
    "INSERT INTO campaign_leads (campaign_id, phone, first_name, email, consent_given, consent_text, added_at) VALUES ($1, $2, 'Sam', $3, true, 'ok to call', $4)",
    [`camp-${tag}`, phone, email, now],
  );
  // The lead and booking streams, with the subject nested deep in their payloads.
  for (const [stream, type, payload] of [
    [`lead:lead-${tag}`, "lead.received", { lead: { contact: { email, phone }, notes: [`call ${phone}`] } }],
    [`booking:bk-${tag}`, "booking.created", { attendees: [{ details: { mail: email, tel: phone } }] }],
  ] as const) {
    await query(
      "INSERT INTO call_events (id, call_sid, seq, type, at, payload) VALUES ($1, $2, 0, $3, $4, $5::jsonb)",
      [crypto.randomUUID(), stream, type, now, JSON.stringify(payload)],
    );
  }
  await query("INSERT INTO suppressions (id, phone, source, call_sid, at) VALUES ($1, $2, 'call', $3, $4)", [
    crypto.randomUUID(),
    phone,
    callSid,
    now,
  ]);
  await query(
    "INSERT INTO consents (id, phone, call_sid, kind, granted, text, at) VALUES ($1, $2, $3, 'recording', true, 'yes record', $4)",
    [crypto.randomUUID(), phone, callSid, now],
  );
}

const upstashConfigured = Boolean(e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN);

function redisClient() {
  return createUpstashClient({
    url: e.UPSTASH_REDIS_REST_URL ?? "",
    token: e.UPSTASH_REDIS_REST_TOKEN ?? "",
  });
}

/**
 * Everything the edge store holds, as text: every key and value of every `EdgeState` instance (the
 * do-not-call set and each shard), or with Upstash configured, the do-not-call set and the keys.
 */
async function edgeDump(): Promise<string> {
  const out: string[] = [];
  if (upstashConfigured) {
    const redis = redisClient();
    out.push(`suppressions: ${JSON.stringify(await redis.smembers("suppressions"))}`);
    for (const key of await redis.keys("callvars:*"))
      out.push(`${key}: ${JSON.stringify(await redis.get(key))}`);
    return out.join("\n");
  }
  const names = ["suppressions", ...Array.from({ length: EDGE_SHARDS }, (_, i) => `edge:${i}`)];
  for (const name of names) {
    const stub = env.EDGE_STATE.get(env.EDGE_STATE.idFromName(name));
    await runInDurableObject(stub, async (_instance, state) => {
      for (const [k, v] of await state.storage.list()) out.push(`${name} ${k}: ${JSON.stringify(v)}`);
    });
  }
  return out.join("\n");
}

/**
 * An opt-out written to the edge do-not-call set before it stored hashes (the plain number), and a web
 * lead's call variables waiting for its call.
 */
async function seedEdge(callSid: string, phone: string, email: string): Promise<void> {
  if (upstashConfigured) {
    await redisClient().sadd("suppressions", phone);
  } else {
    const dnc = env.EDGE_STATE.get(env.EDGE_STATE.idFromName("suppressions"));
    await runInDurableObject(dnc, (_instance, state) =>
      state.storage.put(`sup:${phone}`, { source: "call", atMs: Date.now() }),
    );
  }
  await edgePortsFor(configFor(env), env).callVars.put(
    `lead-${callSid.slice(2, 14)}`,
    { first_name: "Sam", email },
    86_400,
  );
}

async function eraseSubject(body: Record<string, string>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request("https://agent.example/admin/subjects/erase", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { ...env, ADMIN_TOKEN: TOKEN },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("erasure by data subject (security)", () => {
  it("leaves no trace of the number or email in any store, and keeps the opt-out as a hash", async () => {
    const callSid = newCallSid();
    const phone = `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, "0")}`;
    const email = `subject-${callSid.slice(2, 12)}@example.co.uk`;
    await scriptCaller(callSid, [
      "yes speaking",
      "yes we are looking at that this quarter",
      "the first one please",
    ]);
    const client = await TwilioMediaClient.call({
      callSid,
      to: phone,
      query: `?flow=outbound-booking&var_first_name=Sam&var_email=${encodeURIComponent(email)}`,
    });
    const answer = fixture(speech["bc-okay"]);
    for (let i = 0; i < 3; i++) {
      await client.waitIdle();
      await client.say(answer);
      await until(
        "the next state",
        async () => (await callStub(callSid).inspect()).record?.snapshot.path.length !== i + 1,
        10_000,
      );
    }
    await until(
      "the end",
      async () => (await callStub(callSid).inspect()).record?.snapshot.status === "ended",
    );
    await auditTrail(callSid, 20_000);
    await until("the recording", async () => (await env.MEDIA.head(recordingObjectKey(callSid))) !== null);
    await until("the transcript", async () => (await env.MEDIA.head(transcriptObjectKey(callSid))) !== null);
    await seedOtherStores(callSid, phone, email);
    await seedEdge(callSid, phone, email);
    // Every store holds the subject before the erasure (the search would find it).
    expect((await postgresHits(phone)).length).toBeGreaterThan(3);
    expect((await postgresHits(email)).length).toBeGreaterThan(3);
    expect(await durableObjectDump(callSid)).toContain(phone);
    const edgeBefore = await edgeDump();
    expect(edgeBefore).toContain(phone);
    expect(edgeBefore).toContain(email);

    const res = await eraseSubject({ phone, email });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ calls: 1 });

    expect(await postgresHits(phone)).toEqual([]);
    expect(await postgresHits(email)).toEqual([]);
    expect(await postgresHits("Sam Jones")).toEqual([]);
    expect(await env.MEDIA.head(recordingObjectKey(callSid))).toBeNull();
    expect(await env.MEDIA.head(transcriptObjectKey(callSid))).toBeNull();
    const dump = await durableObjectDump(callSid);
    expect(dump).not.toContain(phone);
    expect(dump).not.toContain(email);
    expect(dump).toContain("erased_tombstone");
    const edgeAfter = await edgeDump();
    expect(edgeAfter).not.toContain(phone);
    expect(edgeAfter).not.toContain(phone.slice(1));
    expect(edgeAfter).not.toContain(email);
    expect(edgeAfter).toContain(await suppressionHash(phone));
    if (e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN) {
      const redis = createUpstashClient({ url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN });
      expect(await redis.get(callStateKey(callSid))).toBeNull();
    }

    // A flush attempted after the erasure brings nothing back; the call cannot be restarted.
    await callStub(callSid).callStatus(callSid, "completed", 60);
    await new Promise((r) => setTimeout(r, 500));
    expect(await postgresHits(phone)).toEqual([]);
    expect((await callStub(callSid).inspect()).outboxSize).toBe(0);

    // The opt-out proof stays as number hash + time + source, and still blocks the number.
    const hash = await sha256Hex(phone);
    const proof = await query<{ source: string }>("SELECT source FROM suppressions WHERE phone_hash = $1", [
      hash,
    ]);
    expect(proof.map((p) => p.source)).toEqual(["call"]);
    // The edge do-not-call set still blocks the number, by its hash.
    expect(await edgePortsFor(configFor(env), env).suppressions.has(phone)).toBe(true);
    const { session, release } = await neonConnect({
      databaseUrl: e.DATABASE_URL,
      wsProxyUrl: e.NEON_WS_PROXY,
    })();
    try {
      expect(await isSuppressedInDb(session, phone)).toBe(true);
    } finally {
      await release();
    }
  }, 90_000);

  it("refuses a body without a phone or an email", async () => {
    expect((await eraseSubject({})).status).toBe(400);
    expect((await eraseSubject({ phone: "07700 900123" })).status).toBe(400);
  });
});
