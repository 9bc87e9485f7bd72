import { describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { computeCalSignature } from "../../src/integrations/calcom";
import { callApp, emulatorState, sql, unique } from "./business-support";

interface Meeting {
  properties: Record<string, string>;
}

function delivery(uid: string, email: string, opts: { trigger?: string; callSid?: string } = {}): string {
  return JSON.stringify({
    triggerEvent: opts.trigger ?? "BOOKING_CREATED",
    createdAt: "2026-11-20T09:00:00.000Z",
    payload: {
      uid,
      title: "Demo between Host and Jo",
      startTime: "2026-12-03T10:00:00.000Z",
      endTime: "2026-12-03T10:30:00.000Z",
      status: "ACCEPTED",
      attendees: [{ name: "Jo Bloggs", email, timeZone: "Europe/London", phoneNumber: "07700 900123" }],
      metadata: opts.callSid ? { callSid: opts.callSid } : {},
    },
  });
}

async function post(body: string, signature?: string): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const sig = signature ?? (await computeCalSignature(body, LOCAL_CREDENTIALS.calcomWebhook));
  if (sig !== "") headers["x-cal-signature-256"] = sig;
  return callApp("/webhooks/booking", { method: "POST", headers, body });
}

async function meetingsFor(uid: string): Promise<Meeting[]> {
  const state = await emulatorState<{ meetings: Meeting[] }>("hubspot");
  return state.meetings.filter((m) => m.properties.hs_meeting_body?.includes(uid));
}

describe("POST /webhooks/booking", () => {
  it("answers 401 without a signature and 403 with a forged one, writing nothing", async () => {
    const uid = `forged${unique()}`;
    const body = delivery(uid, `${uid}@example.com`);
    const missing = await post(body, "");
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: "signature_missing" } });
    const forged = await post(body, await computeCalSignature(body, "not-the-secret"));
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: { code: "signature_invalid" } });
    const tampered = await post(
      body.replace("Jo Bloggs", "Mallory"),
      await computeCalSignature(body, LOCAL_CREDENTIALS.calcomWebhook),
    );
    expect(tampered.status).toBe(403);
    expect(await sql("SELECT uid FROM bookings WHERE uid = $1", [uid])).toHaveLength(0);
    expect(await meetingsFor(uid)).toHaveLength(0);
  });

  it("rejects a signed body that is not a booking with a 400 naming the field", async () => {
    const body = JSON.stringify({ triggerEvent: "BOOKING_CREATED", payload: { uid: "x1", attendees: [] } });
    const res = await post(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe("bad_payload");
    expect(json.error.message).toMatch(/startTime|attendees/);
  });

  it("acknowledges triggers it does not act on", async () => {
    const res = await post(JSON.stringify({ triggerEvent: "PING", payload: {} }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, ignored: "PING" });
  });

  it("turns a delivery replayed 100 times into one booking row, one event and one CRM meeting", async () => {
    const uid = `replay${unique()}`;
    const body = delivery(uid, `${uid}@example.com`);
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      ok: true,
      duplicate: false,
      db: "inserted",
      crm: "meeting_created",
    });
    const replies: Response[] = [];
    for (let batch = 0; batch < 11; batch++) {
      replies.push(...(await Promise.all(Array.from({ length: 9 }, () => post(body)))));
    }
    expect(replies).toHaveLength(99);
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ ok: true, duplicate: true, uid });
    }
    expect(await sql("SELECT uid FROM bookings WHERE uid = $1", [uid])).toHaveLength(1);
    const events = await sql<{ id: string }>("SELECT id FROM call_events WHERE call_sid = $1", [
      `booking:${uid}`,
    ]);
    expect(events.map((e) => e.id)).toEqual([`cal:${uid}:BOOKING_CREATED`]);
    expect(await meetingsFor(uid)).toHaveLength(1);
  });

  it("reconciles a booking the agent made: same uid row with its CallSid, no second CRM meeting", async () => {
    const uid = `agent${unique()}`;
    const callSid = `CA${unique()}${unique()}${"0".repeat(8)}`;
    const res = await post(delivery(uid, `${uid}@example.com`, { callSid }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ reconciled: true, callSid, crm: "owned_by_call" });
    const rows = await sql<{ call_sid: string; status: string }>(
      "SELECT call_sid, status FROM bookings WHERE uid = $1",
      [uid],
    );
    expect(rows).toEqual([{ call_sid: callSid, status: "accepted" }]);
    expect(await meetingsFor(uid)).toHaveLength(0);
  });

  it("records a cancellation on the same row and adds one CRM note", async () => {
    const uid = `cancel${unique()}`;
    const email = `${uid}@example.com`;
    expect((await post(delivery(uid, email))).status).toBe(200);
    const cancel = delivery(uid, email, { trigger: "BOOKING_CANCELLED" });
    expect(await (await post(cancel)).json()).toMatchObject({ crm: "note_created", db: "reconciled" });
    expect(await (await post(cancel)).json()).toMatchObject({ duplicate: true });
    const rows = await sql<{ status: string }>("SELECT status FROM bookings WHERE uid = $1", [uid]);
    expect(rows).toEqual([{ status: "cancelled" }]);
    const notes = (await emulatorState<{ notes: Meeting[] }>("hubspot")).notes.filter((n) =>
      n.properties.hs_note_body?.includes(uid),
    );
    expect(notes).toHaveLength(1);
  });
});
