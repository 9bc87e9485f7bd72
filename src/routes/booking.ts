/**
 * `POST /webhooks/booking`: Cal.com booking webhooks. Signature over the raw body first, then the
 * schema, then a claim per delivery (replays answer `{duplicate:true}` and change nothing), then
 * the CRM meeting and the bookings row in parallel. A failed side answers 502 and gives the claim
 * back so Cal.com's retry completes it; the side that succeeded is idempotent on its own.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { AppConfig } from "../config/config";
import { verifyCalSignature } from "../integrations/calcom";
import { persistAudit, RequestAudit } from "../lead/audit";
import {
  BOOKING_CLAIM_TTL_SECONDS,
  bookingRecordOf,
  cancelNoteClaimKey,
  deliveryClaimKey,
  meetingClaimKey,
  parseCalWebhook,
} from "../lead/booking-webhook";
import { type BusinessClients, businessClients, splitName } from "../lead/clients";
import { type EdgePorts, edgePortsFor } from "../lead/edge-ports";
import { type BookingRecord, type BookingWrite, recordBooking } from "../lead/records";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/log";
import { requireConfigured } from "./require-config";

/** Largest webhook body accepted (Cal.com bookings are a few KB). */
const MAX_BODY_BYTES = 256 * 1024;
/** The whole handler answers within 2 s; outside calls share this budget. */
const HANDLER_BUDGET_MS = 1_800;

type CrmOutcome = "meeting_created" | "meeting_exists" | "owned_by_call" | "note_created" | "note_exists";
type DbOutcome = BookingWrite | "skipped_no_database";

async function writeRow(
  clients: BusinessClients,
  record: BookingRecord,
  audit: RequestAudit,
): Promise<DbOutcome> {
  const connect = clients.db;
  if (connect === undefined) return "skipped_no_database";
  return audit.call("postgres", "record_booking", async () => {
    const { session, release } = await connect();
    try {
      return await recordBooking(session, record);
    } finally {
      await release();
    }
  });
}

/** Run `fn` under a claim; give the claim back if it fails, so a retry can do the work. */
async function once<T>(
  ports: EdgePorts,
  key: string,
  fn: () => Promise<T>,
): Promise<{ claimed: false } | { claimed: true; value: T }> {
  if (!(await ports.claims.claim(key, BOOKING_CLAIM_TTL_SECONDS))) return { claimed: false };
  try {
    return { claimed: true, value: await fn() };
  } catch (err) {
    await ports.claims.release(key);
    throw err;
  }
}

async function syncCrm(
  clients: BusinessClients,
  ports: EdgePorts,
  record: BookingRecord,
  audit: RequestAudit,
  signal: AbortSignal,
): Promise<CrmOutcome> {
  const contact = () =>
    audit.call("hubspot", "upsert_contact", () =>
      clients.crm.upsertContact(
        {
          email: record.attendee.email,
          ...splitName(record.attendee.name),
          ...(record.attendee.phone ? { phone: record.attendee.phone } : {}),
        },
        signal,
      ),
    );
  if (record.trigger === "BOOKING_CANCELLED") {
    const r = await once(ports, cancelNoteClaimKey(record.uid), async () => {
      const c = await contact();
      return audit.call("hubspot", "create_note", () =>
        clients.crm.createNote(
          { contactId: c.id, body: `Cal.com booking ${record.uid} was cancelled.`, timestampMs: record.atMs },
          signal,
        ),
      );
    });
    return r.claimed ? "note_created" : "note_exists";
  }
  // The agent's own flow writes the meeting during the call (crm:create_meeting beside the booking):
  // hold the uid's claim so nothing else writes a second one.
  if (record.trigger === "BOOKING_CREATED" && record.callSid !== undefined) {
    const r = await once(ports, meetingClaimKey(record.uid), async () => "owned_by_call" as const);
    return r.claimed ? r.value : "meeting_exists";
  }
  const r = await once(ports, meetingClaimKey(record.uid), async () => {
    const c = await contact();
    return audit.call("hubspot", "create_meeting", () =>
      clients.crm.createMeeting(
        {
          contactId: c.id,
          title: record.trigger === "BOOKING_RESCHEDULED" ? "Booking (rescheduled)" : "Booking",
          startIso: record.startIso,
          endIso: record.endIso,
          body: `Cal.com booking ${record.uid}`,
          outcome: "SCHEDULED",
        },
        signal,
      ),
    );
  });
  return r.claimed ? "meeting_created" : "meeting_exists";
}

function reasonOf(r: PromiseSettledResult<unknown>): string | undefined {
  if (r.status === "fulfilled") return undefined;
  return r.reason instanceof Error ? r.reason.message : String(r.reason);
}

async function verifiedBody(
  req: { text(): Promise<string>; header(n: string): string | undefined },
  config: AppConfig,
) {
  const length = Number(req.header("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) throw new AppError(413, "body_too_large", "Webhook body is too large");
  const raw = await req.text();
  if (raw.length > MAX_BODY_BYTES) throw new AppError(413, "body_too_large", "Webhook body is too large");
  const signature = req.header("x-cal-signature-256");
  if (!signature) throw new AppError(401, "signature_missing", "X-Cal-Signature-256 header is required");
  if (!(await verifyCalSignature(raw, config.calcom.webhookSecret, signature))) {
    throw new AppError(403, "signature_invalid", "X-Cal-Signature-256 does not match the body");
  }
  return raw;
}

function logOutcome(log: Logger, fields: Record<string, unknown>, failed: boolean): void {
  if (failed) log.warn("booking webhook partly failed", fields);
  else log.info("booking webhook handled", fields);
}

export const bookingRoutes = new Hono<AppEnv>();

bookingRoutes.use("/webhooks/booking", requireConfigured("calcomWebhook"));

bookingRoutes.post("/webhooks/booking", async (c) => {
  const config = c.get("config");
  const log = c.get("log");
  const raw = await verifiedBody(c.req, config);
  const parsed = parseCalWebhook(raw);
  if (parsed.kind === "invalid") {
    const first = parsed.issues[0];
    throw new AppError(
      400,
      "bad_payload",
      `${first?.path || "body"}: ${first?.message ?? "invalid"}`,
      parsed.issues,
    );
  }
  if (parsed.kind === "ignored") {
    log.info("booking webhook trigger ignored", { trigger: parsed.trigger });
    return c.json({ ok: true, ignored: parsed.trigger });
  }
  const record = bookingRecordOf(parsed.webhook, Date.now());
  const ports = edgePortsFor(config, c.env);
  const deliveryKey = deliveryClaimKey(record.uid, record.trigger);
  if (!(await ports.claims.claim(deliveryKey, BOOKING_CLAIM_TTL_SECONDS))) {
    log.info("booking webhook replay acknowledged", { uid: record.uid, trigger: record.trigger });
    return c.json({ ok: true, duplicate: true, uid: record.uid });
  }

  const clients = businessClients(config, { crmMs: 1_500 });
  const audit = new RequestAudit(`req:${c.get("requestId")}`, log);
  const signal = AbortSignal.timeout(HANDLER_BUDGET_MS);
  const [db, crm] = await Promise.allSettled([
    writeRow(clients, record, audit),
    syncCrm(clients, ports, record, audit, signal),
  ]);
  const dbOutcome = db.status === "fulfilled" ? db.value : "failed";
  const crmOutcome = crm.status === "fulfilled" ? crm.value : "failed";
  const reconciled = record.callSid !== undefined;
  audit.record(
    "booking.webhook",
    { uid: record.uid, trigger: record.trigger, db: dbOutcome, crm: crmOutcome, reconciled },
    { uid: record.uid, trigger: record.trigger, db: dbOutcome, crm: crmOutcome },
  );
  c.executionCtx.waitUntil(persistAudit(clients.db, audit.events(), log));
  const failed = db.status === "rejected" || crm.status === "rejected";
  // Downstream error messages go to the log only: the body never echoes internal errors.
  const reasons = failed ? { dbError: reasonOf(db), crmError: reasonOf(crm) } : {};
  logOutcome(
    log,
    { uid: record.uid, trigger: record.trigger, db: dbOutcome, crm: crmOutcome, ...reasons },
    failed,
  );
  const body = {
    uid: record.uid,
    trigger: record.trigger,
    db: dbOutcome,
    crm: crmOutcome,
    reconciled,
    ...(reconciled ? { callSid: record.callSid } : {}),
  };
  if (failed) {
    // Give the delivery back: Cal.com retries on non-2xx, and each side is idempotent on its own.
    await ports.claims.release(deliveryKey);
    return c.json(
      {
        ok: false,
        ...body,
        error: { code: "partial_failure", message: "A downstream write failed; retry the delivery" },
      },
      502,
    );
  }
  return c.json({ ok: true, duplicate: false, ...body });
});
