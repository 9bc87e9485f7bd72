/**
 * Cal.com API v2 emulator (Node): slots from a configurable working calendar, bookings with uids,
 * the `{status:"error",error:{code,message}}` shape, Bearer auth and a strict per-endpoint
 * `cal-api-version` check. Optionally delivers signed BOOKING_CREATED webhooks.
 */
import { randomUUID } from "node:crypto";
import {
  CAL_BOOKINGS_API_VERSION,
  CAL_SLOTS_API_VERSION,
  computeCalSignature,
} from "../../integrations/calcom";
import {
  asRecord,
  bearerToken,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";

/** The host's working calendar: local hours in `timeZone`, days 1=Mon … 7=Sun. */
export interface WorkingCalendar {
  timeZone: string;
  startHour: number;
  endHour: number;
  days: number[];
  slotMinutes: number;
}

/** A booking held by the emulator (the v2 response shape, trimmed). */
export interface EmulatedBooking {
  id: number;
  uid: string;
  title: string;
  status: "accepted" | "cancelled";
  start: string;
  end: string;
  duration: number;
  eventTypeId: number;
  attendees: Record<string, unknown>[];
  location?: unknown;
  metadata: Record<string, unknown>;
  bookingFieldsResponses: Record<string, unknown>;
  cancellationReason?: string;
  createdAt: string;
}

/** Options: auth key, event types, calendar, clock, webhook target. */
export interface CalcomEmulatorOptions extends EmulatorBaseOptions {
  apiKey?: string;
  eventTypes?: { id: number; lengthInMinutes: number; title?: string }[];
  calendar?: Partial<WorkingCalendar>;
  /** Emulator clock; slots before it are not offered. Default Date.now. */
  nowMs?: () => number;
  /** Where BOOKING_CREATED / BOOKING_CANCELLED go, signed with `secret`. */
  webhook?: { url: string; secret: string };
}

/** Emulator handle: common controls plus bookings and webhook deliveries. */
export interface CalcomEmulator extends EmulatorControls {
  bookings(): EmulatedBooking[];
  webhookDeliveries(): { body: string; status: number }[];
}

const DEFAULT_CALENDAR: WorkingCalendar = {
  timeZone: "Europe/London",
  startHour: 9,
  endHour: 17,
  days: [1, 2, 3, 4, 5],
  slotMinutes: 30,
};
const WEEKDAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const MAX_RANGE_MS = 31 * 86_400_000;

function localParts(ms: number, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZoneName: "longOffset",
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const offset = get("timeZoneName").replace("GMT", "") || "+00:00";
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    weekday: WEEKDAY[get("weekday")] ?? 0,
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    offset,
  };
}

/** `2026-03-02T09:00:00.000+00:00`: the instant in the zone's wall time with its offset. */
function isoWithOffset(ms: number, timeZone: string): string {
  const p = localParts(ms, timeZone);
  const hh = String(p.hour).padStart(2, "0");
  const mm = String(p.minute).padStart(2, "0");
  return `${p.date}T${hh}:${mm}:00.000${p.offset}`;
}

function parseRangeBound(v: string | undefined, isEnd: boolean): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return Date.parse(`${v}T00:00:00Z`) + (isEnd ? 86_400_000 : 0);
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

function calError(status: number, code: string, message: string, path: string): EmulatorResponse {
  return {
    status,
    body: { status: "error", timestamp: new Date().toISOString(), path, error: { code, message } },
  };
}

/** Start the Cal.com emulator. Default API key `cal_test_key`, event type 1 (30 min). */
export async function startCalcomEmulator(options: CalcomEmulatorOptions = {}): Promise<CalcomEmulator> {
  const apiKey = options.apiKey ?? "cal_test_key";
  const eventTypes = options.eventTypes ?? [{ id: 1, lengthInMinutes: 30, title: "30 min meeting" }];
  const cal: WorkingCalendar = { ...DEFAULT_CALENDAR, ...options.calendar };
  const now = options.nowMs ?? Date.now;
  let bookings: EmulatedBooking[] = [];
  let deliveries: { body: string; status: number }[] = [];
  let nextId = 1000;

  const taken = (startMs: number, lengthMin: number) =>
    bookings.some((b) => {
      if (b.status !== "accepted") return false;
      const bs = Date.parse(b.start);
      const be = Date.parse(b.end);
      return startMs < be && startMs + lengthMin * 60_000 > bs;
    });

  const isBookable = (startMs: number, lengthMin: number) => {
    if (startMs <= now()) return false;
    const p = localParts(startMs, cal.timeZone);
    const endP = localParts(startMs + lengthMin * 60_000 - 60_000, cal.timeZone);
    const minuteOfDay = p.hour * 60 + p.minute;
    return (
      cal.days.includes(p.weekday) &&
      minuteOfDay % cal.slotMinutes === 0 &&
      minuteOfDay >= cal.startHour * 60 &&
      endP.date === p.date &&
      endP.hour * 60 + endP.minute < cal.endHour * 60 &&
      !taken(startMs, lengthMin)
    );
  };

  const deliver = async (triggerEvent: string, b: EmulatedBooking) => {
    if (!options.webhook) return;
    const body = JSON.stringify({
      triggerEvent,
      createdAt: new Date().toISOString(),
      payload: {
        bookingId: b.id,
        uid: b.uid,
        title: b.title,
        startTime: b.start,
        endTime: b.end,
        status: b.status.toUpperCase(),
        eventTypeId: b.eventTypeId,
        attendees: b.attendees,
        metadata: b.metadata,
        responses: b.bookingFieldsResponses,
        ...(b.cancellationReason ? { cancellationReason: b.cancellationReason } : {}),
      },
    });
    const signature = await computeCalSignature(body, options.webhook.secret);
    try {
      const res = await fetch(options.webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-cal-signature-256": signature },
        body,
      });
      deliveries.push({ body, status: res.status });
    } catch {
      deliveries.push({ body, status: 0 });
    }
  };

  const requireVersion = (req: RecordedRequest, version: string): EmulatorResponse | undefined => {
    const got = req.headers["cal-api-version"];
    if (got === version) return undefined;
    return calError(
      400,
      "BadRequestException",
      `cal-api-version must be ${version} for this endpoint (got ${got ?? "none"})`,
      req.path,
    );
  };
  const requireAuth = (req: RecordedRequest): EmulatorResponse | undefined =>
    bearerToken(req) === apiKey
      ? undefined
      : calError(401, "UnauthorizedException", "Invalid API key", req.path);

  const slots = (req: RecordedRequest): EmulatorResponse => {
    const bad = requireVersion(req, CAL_SLOTS_API_VERSION);
    if (bad) return bad;
    if (req.headers.authorization !== undefined) {
      const unauth = requireAuth(req);
      if (unauth) return unauth;
    }
    const et = eventTypes.find((e) => String(e.id) === req.query.eventTypeId);
    if (!et) return calError(404, "NotFoundException", "Event type not found", req.path);
    const startMs = parseRangeBound(req.query.start, false);
    const endMs = parseRangeBound(req.query.end, true);
    const tz = req.query.timeZone ?? "UTC";
    if (startMs === undefined || endMs === undefined || endMs <= startMs) {
      return calError(
        400,
        "BadRequestException",
        "start and end must be valid dates with start < end",
        req.path,
      );
    }
    const data: Record<string, { start: string }[]> = {};
    const step = cal.slotMinutes * 60_000;
    const first = Math.ceil(startMs / step) * step;
    for (let t = first; t < Math.min(endMs, startMs + MAX_RANGE_MS); t += step) {
      if (!isBookable(t, et.lengthInMinutes)) continue;
      const start = isoWithOffset(t, tz);
      const key = start.slice(0, 10);
      const day = data[key] ?? [];
      day.push({ start });
      data[key] = day;
    }
    return { status: 200, body: { status: "success", data } };
  };

  const createBooking = (req: RecordedRequest): EmulatorResponse => {
    const body = asRecord(tryJson(req.body));
    const attendee = asRecord(body?.attendee);
    const et = eventTypes.find((e) => e.id === body?.eventTypeId);
    const startMs = typeof body?.start === "string" ? Date.parse(body.start) : Number.NaN;
    if (!body || !attendee || typeof attendee.name !== "string" || typeof attendee.email !== "string") {
      return calError(400, "BadRequestException", "attendee.name and attendee.email are required", req.path);
    }
    if (typeof attendee.timeZone !== "string") {
      return calError(400, "BadRequestException", "attendee.timeZone is required", req.path);
    }
    if (!et) return calError(404, "NotFoundException", "Event type not found", req.path);
    if (Number.isNaN(startMs))
      return calError(400, "BadRequestException", "start must be an ISO date", req.path);
    const length = typeof body.lengthInMinutes === "number" ? body.lengthInMinutes : et.lengthInMinutes;
    if (!isBookable(startMs, length)) {
      return calError(
        400,
        "BadRequestException",
        "User either already has booking at this time or is not available",
        req.path,
      );
    }
    const booking: EmulatedBooking = {
      id: nextId++,
      uid: randomUUID().replace(/-/g, "").slice(0, 22),
      title: `${et.title ?? "Meeting"} between Host and ${attendee.name}`,
      status: "accepted",
      start: new Date(startMs).toISOString(),
      end: new Date(startMs + length * 60_000).toISOString(),
      duration: length,
      eventTypeId: et.id,
      attendees: [{ ...attendee, absent: false }],
      location: body.location,
      metadata: asRecord(body.metadata) ?? {},
      bookingFieldsResponses: asRecord(body.bookingFieldsResponses) ?? {},
      createdAt: new Date().toISOString(),
    };
    bookings.push(booking);
    void deliver("BOOKING_CREATED", booking);
    return { status: 201, body: { status: "success", data: booking } };
  };

  const listBookings = (req: RecordedRequest): EmulatorResponse => {
    const email = req.query.attendeeEmail?.toLowerCase();
    const after = parseRangeBound(req.query.afterStart, false);
    const before = parseRangeBound(req.query.beforeEnd, true);
    const data = bookings.filter(
      (b) =>
        (email === undefined || b.attendees.some((a) => String(a.email).toLowerCase() === email)) &&
        (after === undefined || Date.parse(b.start) >= after) &&
        (before === undefined || Date.parse(b.end) <= before),
    );
    return { status: 200, body: { status: "success", data } };
  };

  const impl = {
    name: "calcom",
    state: () => ({ bookings }),
    reset: () => {
      bookings = [];
      deliveries = [];
    },
    handle(req: RecordedRequest): EmulatorResponse {
      if (req.path === "/v2/slots" && req.method === "GET") return slots(req);
      if (!req.path.startsWith("/v2/bookings"))
        return calError(404, "NotFoundException", "Cannot find route", req.path);
      const bad = requireVersion(req, CAL_BOOKINGS_API_VERSION) ?? requireAuth(req);
      if (bad) return bad;
      if (req.path === "/v2/bookings" && req.method === "POST") return createBooking(req);
      if (req.path === "/v2/bookings" && req.method === "GET") return listBookings(req);
      const m = /^\/v2\/bookings\/([^/]+)(\/cancel)?$/.exec(req.path);
      const booking = bookings.find((b) => b.uid === m?.[1]);
      if (!m || !booking) return calError(404, "NotFoundException", "Booking not found", req.path);
      if (m[2] === undefined && req.method === "GET")
        return { status: 200, body: { status: "success", data: booking } };
      if (m[2] === "/cancel" && req.method === "POST") {
        if (booking.status !== "cancelled") {
          booking.status = "cancelled";
          const reason = asRecord(tryJson(req.body))?.cancellationReason;
          if (typeof reason === "string") booking.cancellationReason = reason;
          void deliver("BOOKING_CANCELLED", booking);
        }
        return { status: 200, body: { status: "success", data: booking } };
      }
      return calError(404, "NotFoundException", "Cannot find route", req.path);
    },
  };
  const controls = await startHttpEmulator(impl, options);
  return { ...controls, bookings: () => [...bookings], webhookDeliveries: () => [...deliveries] };
}
