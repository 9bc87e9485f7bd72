/**
 * Pure projection of audit events into rows for the queryable tables. Reduces duplicates within a batch
 * (one row per key, latest event wins) so every upsert touches a row at most once per statement.
 */
import type { CallEvent } from "./call-event";
import { EVENT_TYPES, PAYLOAD_SCHEMAS } from "./call-event";

/** Rows to write, one array per table/upsert statement; JSON-ready (timestamps as ISO strings). */
export interface ProjectionRows {
  callStarts: Array<{
    call_sid: string;
    direction: string | null;
    campaign_id: string | null;
    lead_id: string | null;
    flow_id: string | null;
    from_number: string | null;
    to_number: string | null;
    started_at: string;
  }>;
  callEnds: Array<{
    call_sid: string;
    ended_at: string;
    outcome: string;
    end_reason: string | null;
    duration_ms: number | null;
    answered_by: string | null;
  }>;
  stateTransitions: Array<{ call_sid: string; last_state: string; last_state_seq: number; at: string }>;
  amdResults: Array<{ call_sid: string; answered_by: string; at: string }>;
  turns: Array<{
    call_sid: string;
    turn_index: number;
    event_id: string;
    at: string;
    path: string | null;
    endpointing_ms: number | null;
    llm_first_token_ms: number | null;
    tts_first_audio_ms: number | null;
    overhead_ms: number | null;
    total_ms: number | null;
    segments: Record<string, unknown>;
  }>;
  consents: Array<{
    id: string;
    phone: string;
    call_sid: string;
    kind: string;
    granted: boolean;
    text: string | null;
    at: string;
  }>;
  suppressions: Array<{ id: string; phone: string; source: string; call_sid: string; at: string }>;
  bookings: Array<{
    uid: string;
    call_sid: string;
    attendee_name: string | null;
    attendee_email: string | null;
    attendee_phone: string | null;
    start_at: string;
    end_at: string | null;
    status: string;
    updated_at: string;
  }>;
  leads: Array<{
    id: string;
    call_sid: string;
    name: string | null;
    email: string | null;
    phone: string | null;
    intent: string | null;
    source: string | null;
    crm_contact_id: string | null;
    created_at: string;
  }>;
  /** Events of a projected type whose payload failed its schema (still stored in call_events). */
  invalid: Array<{ id: string; type: string; issue: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** Keep one row per key; a later (by `rank`) row replaces an earlier one. */
function latestBy<R>(rows: Array<{ row: R; key: string; rank: number }>): R[] {
  const best = new Map<string, { row: R; rank: number }>();
  for (const r of rows) {
    const cur = best.get(r.key);
    if (cur === undefined || r.rank >= cur.rank) best.set(r.key, { row: r.row, rank: r.rank });
  }
  return [...best.values()].map((b) => b.row);
}

/** Turn events into projection rows. Events of unprojected types are ignored here. */
export function projectEvents(events: readonly CallEvent[]): ProjectionRows {
  const out: ProjectionRows = {
    callStarts: [],
    callEnds: [],
    stateTransitions: [],
    amdResults: [],
    turns: [],
    consents: [],
    suppressions: [],
    bookings: [],
    leads: [],
    invalid: [],
  };
  const starts: Array<{ row: ProjectionRows["callStarts"][number]; key: string; rank: number }> = [];
  const ends: Array<{ row: ProjectionRows["callEnds"][number]; key: string; rank: number }> = [];
  const transitions: Array<{ row: ProjectionRows["stateTransitions"][number]; key: string; rank: number }> =
    [];
  const amd: Array<{ row: ProjectionRows["amdResults"][number]; key: string; rank: number }> = [];
  const bookings: Array<{ row: ProjectionRows["bookings"][number]; key: string; rank: number }> = [];

  for (const e of events) {
    const at = iso(e.atMs);
    const fail = (issue: string) => out.invalid.push({ id: e.id, type: e.type, issue });
    switch (e.type) {
      case EVENT_TYPES.callStarted: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.callStarted].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        starts.push({
          key: e.callSid,
          rank: -e.seq, // the first start wins
          row: {
            call_sid: e.callSid,
            direction: orNull(d.direction),
            campaign_id: orNull(d.campaignId),
            lead_id: orNull(d.leadId),
            flow_id: orNull(d.flowId),
            from_number: orNull(d.from),
            to_number: orNull(d.to),
            started_at: at,
          },
        });
        break;
      }
      case EVENT_TYPES.callEnded: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.callEnded].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        ends.push({
          key: e.callSid,
          rank: e.seq,
          row: {
            call_sid: e.callSid,
            ended_at: at,
            outcome: d.outcome,
            end_reason: orNull(d.reason),
            duration_ms: orNull(d.durationMs),
            answered_by: orNull(d.answeredBy),
          },
        });
        break;
      }
      case EVENT_TYPES.stateTransition: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.stateTransition].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        transitions.push({
          key: e.callSid,
          rank: e.seq,
          row: { call_sid: e.callSid, last_state: p.data.to, last_state_seq: e.seq, at },
        });
        break;
      }
      case EVENT_TYPES.amdResult: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.amdResult].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        amd.push({
          key: e.callSid,
          rank: e.seq,
          row: { call_sid: e.callSid, answered_by: p.data.answeredBy, at },
        });
        break;
      }
      case EVENT_TYPES.turnLatency: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.turnLatency].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        out.turns.push({
          call_sid: e.callSid,
          turn_index: d.turn,
          event_id: e.id,
          at,
          path: orNull(d.path),
          endpointing_ms: orNull(d.endpointingMs),
          llm_first_token_ms: orNull(d.llmFirstTokenMs),
          tts_first_audio_ms: orNull(d.ttsFirstAudioMs),
          overhead_ms: orNull(d.overheadMs),
          total_ms: orNull(d.totalMs),
          segments: e.payload,
        });
        break;
      }
      case EVENT_TYPES.consentRecorded: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.consentRecorded].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        out.consents.push({
          id: e.id,
          phone: d.phone,
          call_sid: e.callSid,
          kind: d.kind,
          granted: d.granted,
          text: orNull(d.text),
          at,
        });
        break;
      }
      case EVENT_TYPES.optOutRecorded: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.optOutRecorded].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        out.suppressions.push({
          id: e.id,
          phone: p.data.phone,
          source: p.data.source,
          call_sid: e.callSid,
          at,
        });
        break;
      }
      case EVENT_TYPES.bookingCreated:
      case EVENT_TYPES.bookingUpdated: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.bookingCreated].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        bookings.push({
          key: d.uid,
          rank: e.atMs, // ties: the later event in the batch wins
          row: {
            uid: d.uid,
            call_sid: e.callSid,
            attendee_name: orNull(d.attendee?.name),
            attendee_email: orNull(d.attendee?.email),
            attendee_phone: orNull(d.attendee?.phone),
            start_at: d.start,
            end_at: orNull(d.end),
            status: d.status,
            updated_at: at,
          },
        });
        break;
      }
      case EVENT_TYPES.leadCaptured: {
        const p = PAYLOAD_SCHEMAS[EVENT_TYPES.leadCaptured].safeParse(e.payload);
        if (!p.success) {
          fail(p.error.message);
          break;
        }
        const d = p.data;
        out.leads.push({
          id: d.leadId ?? e.id,
          call_sid: e.callSid,
          name: orNull(d.name),
          email: orNull(d.email),
          phone: orNull(d.phone),
          intent: orNull(d.intent),
          source: orNull(d.source),
          crm_contact_id: orNull(d.crmContactId),
          created_at: at,
        });
        break;
      }
      default:
        break;
    }
  }
  out.callStarts = latestBy(starts);
  out.callEnds = latestBy(ends);
  out.stateTransitions = latestBy(transitions);
  out.amdResults = latestBy(amd);
  out.bookings = latestBy(bookings);
  return out;
}
