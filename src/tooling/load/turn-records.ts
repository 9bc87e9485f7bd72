/**
 * Reads the Worker's `turn.latency` audit events for the calls a load run placed, from the local
 * stack's Postgres (the Durable Objects flush their outboxes a moment after each call).
 */
import { neonConnect } from "../../store/neon";
import type { TurnLatencyPayload } from "./provider-time";

export interface TurnRecordSource {
  databaseUrl: string;
  wsProxyUrl?: string;
}

/** Per call SID, its turn records; waits up to `waitMs` for every call to have `turnsPerCall` of them. */
export async function fetchTurnRecords(
  source: TurnRecordSource,
  callSids: readonly string[],
  turnsPerCall: number,
  waitMs = 15_000,
): Promise<Map<string, TurnLatencyPayload[]>> {
  const { session, release } = await neonConnect({
    databaseUrl: source.databaseUrl,
    wsProxyUrl: source.wsProxyUrl,
    queryTimeoutMs: 30_000,
  })();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const { rows } = await session.query<{ call_sid: string; payload: TurnLatencyPayload }>(
        "SELECT call_sid, payload FROM call_events WHERE type = 'turn.latency' AND call_sid = ANY($1)",
        [callSids],
      );
      const byCall = new Map<string, TurnLatencyPayload[]>();
      for (const r of rows) byCall.set(r.call_sid, [...(byCall.get(r.call_sid) ?? []), r.payload]);
      const complete = callSids.every((sid) => (byCall.get(sid)?.length ?? 0) >= turnsPerCall);
      if (complete || Date.now() > deadline) return byCall;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await release();
  }
}
