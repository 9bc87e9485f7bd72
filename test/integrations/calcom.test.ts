import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CAL_BOOKINGS_API_VERSION,
  CAL_SLOTS_API_VERSION,
  computeCalSignature,
  createCalcomClient,
  verifyCalSignature,
} from "../../src/integrations/calcom";
import { ProviderError } from "../../src/lib/errors";
import { type CalcomEmulator, startCalcomEmulator } from "../../src/tooling/emulators/calcom";

// Monday 2 March 2026, 08:00 London (GMT).
const NOW = Date.parse("2026-03-02T08:00:00Z");
const attendee = { name: "Jo Bloggs", email: "jo@example.co.uk", timeZone: "Europe/London" };

let emu: CalcomEmulator;
beforeEach(async () => {
  emu = await startCalcomEmulator({ nowMs: () => NOW });
});
afterEach(async () => {
  await emu.close();
});
const client = (timeoutMs = 2_000) =>
  createCalcomClient({ apiKey: "cal_test_key", baseUrl: emu.url, timeoutMs });

describe("Cal.com client against the emulator", () => {
  it("lists slots in working hours, sorted, with the slots API version", async () => {
    const slots = await client().getSlots({
      eventTypeId: 1,
      start: "2026-03-02",
      end: "2026-03-03",
      timeZone: "Europe/London",
    });
    expect(slots[0]?.start).toBe("2026-03-02T09:00:00.000+00:00");
    expect(slots.at(-1)?.start).toBe("2026-03-03T16:30:00.000+00:00");
    expect(slots).toHaveLength(32);
    expect(emu.requests()[0]?.headers["cal-api-version"]).toBe(CAL_SLOTS_API_VERSION);
  });

  it("books a slot with the pinned bookings version and refuses the same slot twice", async () => {
    const { booking, reconciled } = await client().createBooking({
      eventTypeId: 1,
      start: "2026-03-02T10:00:00+00:00",
      attendee,
      callSid: "CA1",
    });
    expect(booking.status).toBe("accepted");
    expect(booking.uid).toMatch(/\w{10,}/);
    expect(reconciled).toBe(false);
    expect(emu.requests()[0]?.headers["cal-api-version"]).toBe(CAL_BOOKINGS_API_VERSION);
    const second = await client()
      .createBooking({ eventTypeId: 1, start: "2026-03-02T10:00:00Z", attendee, callSid: "CA2" })
      .catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ProviderError);
    expect((second as ProviderError).status).toBe(400);
    expect((second as ProviderError).retryable).toBe(false);
    expect(emu.bookings()).toHaveLength(1);
  });

  it("reconciles a booking whose response was lost instead of booking twice", async () => {
    emu.injectFault({ pathPrefix: "/v2/bookings", method: "POST", status: 502, failAfterHandling: true });
    const { booking, reconciled } = await client().createBooking({
      eventTypeId: 1,
      start: "2026-03-02T11:00:00Z",
      attendee,
      callSid: "CA-lost",
    });
    expect(reconciled).toBe(true);
    expect(booking.metadata?.callSid).toBe("CA-lost");
    expect(emu.bookings()).toHaveLength(1);
  });

  it("retries a create after a 5xx that wrote nothing", async () => {
    emu.injectFault({ pathPrefix: "/v2/bookings", method: "POST", status: 503 });
    const { reconciled } = await client().createBooking({
      eventTypeId: 1,
      start: "2026-03-02T11:30:00Z",
      attendee,
      callSid: "CA-retry",
    });
    expect(reconciled).toBe(false);
    expect(emu.bookings()).toHaveLength(1);
    expect(emu.requests().map((r) => r.method)).toEqual(["POST", "GET", "POST"]);
  });

  it("cancels a booking, freeing the slot", async () => {
    const c = client();
    const { booking } = await c.createBooking({
      eventTypeId: 1,
      start: "2026-03-02T12:00:00Z",
      attendee,
      callSid: "CA3",
    });
    await c.cancelBooking(booking.uid, "caller changed their mind");
    expect(emu.bookings()[0]?.status).toBe("cancelled");
    const again = await c.createBooking({
      eventTypeId: 1,
      start: "2026-03-02T12:00:00Z",
      attendee,
      callSid: "CA4",
    });
    expect(again.booking.status).toBe("accepted");
  });

  it("retries a slots read that stalled once (reads are idempotent)", async () => {
    emu.injectFault({ pathPrefix: "/v2/slots", stall: true });
    const slots = await client(150).getSlots({
      eventTypeId: 1,
      start: "2026-03-02",
      end: "2026-03-03",
      timeZone: "Europe/London",
    });
    expect(slots.length).toBeGreaterThan(0);
    expect(emu.requests()).toHaveLength(2);
  });

  it("times out a calendar that keeps stalling with a retryable error", async () => {
    emu.injectFault({ pathPrefix: "/v2/slots", stall: true, times: 10 });
    const t0 = Date.now();
    const err = await client(150)
      .getSlots({ eventTypeId: 1, start: "2026-03-02", end: "2026-03-03", timeZone: "Europe/London" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).retryable).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(emu.requests()).toHaveLength(3);
  });

  it("delivers BOOKING_CREATED webhooks whose signature verifies", async () => {
    const received: { body: string; sig: string | undefined }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const sig = req.headers["x-cal-signature-256"];
        received.push({ body, sig: typeof sig === "string" ? sig : undefined });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const hooked = await startCalcomEmulator({
      nowMs: () => NOW,
      webhook: { url: `http://127.0.0.1:${port}/webhooks/booking`, secret: "whsec" },
    });
    try {
      const c = createCalcomClient({ apiKey: "cal_test_key", baseUrl: hooked.url });
      await c.createBooking({ eventTypeId: 1, start: "2026-03-02T13:00:00Z", attendee, callSid: "CA5" });
      await expect.poll(() => received.length).toBe(1);
      const got = received[0];
      expect(JSON.parse(got?.body ?? "{}").triggerEvent).toBe("BOOKING_CREATED");
      expect(await verifyCalSignature(got?.body ?? "", "whsec", got?.sig)).toBe(true);
      expect(await verifyCalSignature(got?.body ?? "", "other", got?.sig)).toBe(false);
    } finally {
      await hooked.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("verifyCalSignature", () => {
  const body = '{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"abc"}}';
  const hex = createHmac("sha256", "s3cret").update(body).digest("hex");

  it("matches Cal.com's hex HMAC-SHA256 of the raw body", async () => {
    expect(await computeCalSignature(body, "s3cret")).toBe(hex);
    expect(await verifyCalSignature(body, "s3cret", hex)).toBe(true);
  });

  it("tolerates a sha256= prefix and upper-case hex", async () => {
    expect(await verifyCalSignature(body, "s3cret", `sha256=${hex}`)).toBe(true);
    expect(await verifyCalSignature(body, "s3cret", hex.toUpperCase())).toBe(true);
  });

  it("rejects forged, missing and unsigned deliveries and a re-serialised body", async () => {
    expect(await verifyCalSignature(body, "s3cret", "0".repeat(64))).toBe(false);
    expect(await verifyCalSignature(body, "s3cret", null)).toBe(false);
    expect(await verifyCalSignature(body, "", "no-secret-provided")).toBe(false);
    expect(await verifyCalSignature(JSON.stringify(JSON.parse(body), null, 1), "s3cret", hex)).toBe(false);
  });
});
