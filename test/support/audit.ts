/** Reads a call's audit trail from Postgres (through the Neon driver, as production does) once its outbox drained. */
import { env } from "cloudflare:test";
import type { CallSession } from "../../durable-objects/call-session";
import { neonConnect } from "../../src/store/neon";

export interface AuditRow {
  id: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

export function callStub(callSid: string): DurableObjectStub<CallSession> {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid));
}

/** Wait until the call's outbox is empty, then return its `call_events` rows in order. */
export async function auditTrail(callSid: string, timeoutMs = 10_000): Promise<AuditRow[]> {
  const deadline = Date.now() + timeoutMs;
  while ((await callStub(callSid).inspect()).outboxSize > 0) {
    if (Date.now() > deadline) throw new Error("outbox did not drain to Postgres");
    await new Promise((r) => setTimeout(r, 100));
  }
  return query<AuditRow>("SELECT id, seq, type, payload FROM call_events WHERE call_sid = $1 ORDER BY seq", [
    callSid,
  ]);
}

/** One query against the test database. */
export async function query<Row>(text: string, params: unknown[] = []): Promise<Row[]> {
  const e = env as unknown as { DATABASE_URL: string; NEON_WS_PROXY: string };
  const { session, release } = await neonConnect({
    databaseUrl: e.DATABASE_URL,
    wsProxyUrl: e.NEON_WS_PROXY,
  })();
  try {
    return (await session.query<Row>(text, params)).rows;
  } finally {
    await release();
  }
}
