/**
 * Cal.com API v2 client (slots, bookings) and the `X-Cal-Signature-256` webhook check. Each
 * endpoint pins its own `cal-api-version`; booking creation is made idempotent on our side by
 * looking for a booking with the same `metadata.callSid` and start before any retry.
 */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { hmac, timingSafeEqualString, toHex } from "./crypto";
import { fetchJson, type HttpDeps, jsonField } from "./http";

/** `cal-api-version` for GET /v2/slots. */
export const CAL_SLOTS_API_VERSION = "2024-09-04";
/** `cal-api-version` pinned for every booking endpoint (the emulator rejects any other value). */
export const CAL_BOOKINGS_API_VERSION = "2024-08-13";

/** Connection settings. `baseUrl` defaults to `https://api.cal.com`. */
export interface CalcomConfig {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** One bookable start time, ISO 8601 with offset as Cal.com returns it. */
export interface CalSlot {
  start: string;
}

/** Attendee as Cal.com v2 expects it. */
export interface CalAttendee {
  name: string;
  email: string;
  timeZone: string;
  phoneNumber?: string;
  language?: string;
}

/** Input for {@link CalcomClient.createBooking}. `start` is converted to UTC. */
export interface CreateBookingInput {
  eventTypeId: number;
  start: string;
  attendee: CalAttendee;
  /** Twilio CallSid: stored in metadata and used as the idempotency key together with `start`. */
  callSid: string;
  lengthInMinutes?: number;
  notes?: string;
}

const bookingSchema = z.looseObject({
  id: z.number().optional(),
  uid: z.string(),
  start: z.string(),
  end: z.string().optional(),
  status: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** A booking as returned by Cal.com (fields we rely on; others kept). */
export type CalBooking = z.infer<typeof bookingSchema>;

const slotItem = z.union([
  z.looseObject({ start: z.string() }),
  z.looseObject({ time: z.string() }).transform((s) => ({ start: s.time })),
  z.string().transform((s) => ({ start: s })),
]);
const slotsResponse = z.looseObject({
  status: z.literal("success"),
  data: z.record(z.string(), z.array(slotItem)),
});
const bookingResponse = z.looseObject({
  status: z.literal("success"),
  data: z.union([bookingSchema, z.array(bookingSchema).min(1)]),
});
const bookingListResponse = z.looseObject({ status: z.literal("success"), data: z.array(bookingSchema) });
const anySuccess = z.looseObject({ status: z.literal("success") });

function describeCalError(_status: number, text: string): string {
  return jsonField(text, "error", "message") ?? jsonField(text, "message") ?? text.slice(0, 200);
}

/** Result of a create: `reconciled` when an existing booking for the same call and start was found. */
export interface CreateBookingResult {
  booking: CalBooking;
  reconciled: boolean;
}

/** Cal.com v2 client. */
export interface CalcomClient {
  /** Bookable starts between `start` and `end` (dates or ISO times), flattened and sorted. */
  getSlots(
    q: { eventTypeId: number; start: string; end: string; timeZone: string; duration?: number },
    signal?: AbortSignal,
  ): Promise<CalSlot[]>;
  createBooking(input: CreateBookingInput, signal?: AbortSignal): Promise<CreateBookingResult>;
  /** An existing booking made by this call for this start time, if any. */
  findBookingForCall(
    q: { callSid: string; start: string; attendeeEmail: string },
    signal?: AbortSignal,
  ): Promise<CalBooking | undefined>;
  cancelBooking(uid: string, reason: string, signal?: AbortSignal): Promise<void>;
}

function sameInstant(a: string, b: string): boolean {
  const ta = Date.parse(a);
  return !Number.isNaN(ta) && ta === Date.parse(b);
}

/** Create a client; build it per request or per Durable Object. */
export function createCalcomClient(config: CalcomConfig, deps: HttpDeps = {}): CalcomClient {
  const base = (config.baseUrl ?? "https://api.cal.com").replace(/\/+$/, "");
  const timeoutMs = config.timeoutMs ?? 5_000;
  const auth = { authorization: `Bearer ${config.apiKey}` };
  const bookingHeaders = { ...auth, "cal-api-version": CAL_BOOKINGS_API_VERSION };

  const client: CalcomClient = {
    async getSlots(q, signal) {
      const url = new URL(`${base}/v2/slots`);
      url.searchParams.set("eventTypeId", String(q.eventTypeId));
      url.searchParams.set("start", q.start);
      url.searchParams.set("end", q.end);
      url.searchParams.set("timeZone", q.timeZone);
      if (q.duration !== undefined) url.searchParams.set("duration", String(q.duration));
      const res = await fetchJson(
        {
          provider: "calcom",
          url: url.toString(),
          headers: { ...auth, "cal-api-version": CAL_SLOTS_API_VERSION },
          timeoutMs,
          signal,
          retry: "idempotent",
          schema: slotsResponse,
          describeError: describeCalError,
        },
        deps,
      );
      const all = Object.values(res.data).flat();
      return all
        .filter((s) => !Number.isNaN(Date.parse(s.start)))
        .sort((a, b) => Date.parse(a.start) - Date.parse(b.start))
        .map((s) => ({ start: s.start }));
    },

    async findBookingForCall(q, signal) {
      const startMs = Date.parse(q.start);
      const url = new URL(`${base}/v2/bookings`);
      url.searchParams.set("attendeeEmail", q.attendeeEmail);
      url.searchParams.set("afterStart", new Date(startMs - 60_000).toISOString());
      url.searchParams.set("beforeEnd", new Date(startMs + 24 * 3_600_000).toISOString());
      const res = await fetchJson(
        {
          provider: "calcom",
          url: url.toString(),
          headers: bookingHeaders,
          timeoutMs,
          signal,
          retry: "idempotent",
          schema: bookingListResponse,
          describeError: describeCalError,
        },
        deps,
      );
      return res.data.find(
        (b) => b.metadata?.callSid === q.callSid && sameInstant(b.start, q.start) && b.status !== "cancelled",
      );
    },

    async createBooking(input, signal) {
      const startUtc = new Date(Date.parse(input.start)).toISOString();
      const body = {
        eventTypeId: input.eventTypeId,
        start: startUtc,
        attendee: input.attendee,
        ...(input.attendee.phoneNumber
          ? { location: { type: "attendeePhone", phone: input.attendee.phoneNumber } }
          : {}),
        ...(input.notes ? { bookingFieldsResponses: { notes: input.notes } } : {}),
        metadata: { callSid: input.callSid },
        ...(input.lengthInMinutes !== undefined ? { lengthInMinutes: input.lengthInMinutes } : {}),
      };
      const post = () =>
        fetchJson(
          {
            provider: "calcom",
            url: `${base}/v2/bookings`,
            method: "POST",
            headers: bookingHeaders,
            json: body,
            timeoutMs,
            signal,
            // A blind repeat could double-book; repeats go through the lookup below instead.
            retry: "rate-limit-only",
            schema: bookingResponse,
            describeError: describeCalError,
          },
          deps,
        );
      const lookup = { callSid: input.callSid, start: startUtc, attendeeEmail: input.attendee.email };
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await post();
          const booking = Array.isArray(res.data) ? res.data[0] : res.data;
          if (booking === undefined) throw new ProviderError("calcom", "empty booking response", 200);
          return { booking, reconciled: false };
        } catch (err) {
          // Only an ambiguous failure (no answer, or 5xx) may have created the booking anyway.
          const ambiguous =
            err instanceof ProviderError &&
            err.retryable &&
            (err.status === undefined || err.status >= 500) &&
            !signal?.aborted;
          if (!ambiguous || attempt >= 2) throw err;
          const existing = await client.findBookingForCall(lookup, signal);
          if (existing) return { booking: existing, reconciled: true };
        }
      }
    },

    async cancelBooking(uid, reason, signal) {
      await fetchJson(
        {
          provider: "calcom",
          url: `${base}/v2/bookings/${encodeURIComponent(uid)}/cancel`,
          method: "POST",
          headers: bookingHeaders,
          json: { cancellationReason: reason },
          timeoutMs,
          signal,
          retry: "idempotent",
          schema: anySuccess,
          describeError: describeCalError,
        },
        deps,
      );
    },
  };
  return client;
}

/** Hex HMAC-SHA256 of the raw body, as Cal.com puts in `X-Cal-Signature-256`. */
export async function computeCalSignature(rawBody: string, secret: string): Promise<string> {
  return toHex(await hmac("SHA-256", secret, rawBody));
}

/**
 * Check `X-Cal-Signature-256` against the raw (unparsed) body. Cal.com sends bare lower-case hex;
 * a `sha256=` prefix and upper-case hex are tolerated. An empty secret never verifies (Cal.com
 * sends `no-secret-provided` when none is configured).
 */
export async function verifyCalSignature(
  rawBody: string,
  secret: string,
  header: string | null | undefined,
): Promise<boolean> {
  if (!secret || !header) return false;
  const provided = header
    .trim()
    .replace(/^sha256=/i, "")
    .toLowerCase();
  return timingSafeEqualString(provided, await computeCalSignature(rawBody, secret));
}
