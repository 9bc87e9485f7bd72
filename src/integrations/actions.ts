/**
 * In-call actions: maps a flow action name to the calendar / CRM / chat / telephony ports through a
 * narrow schema, under a time budget, and always answers with a plain result the flow can branch
 * on. Never throws; a slow provider yields `{ ok: false }` within its budget, not a silent pause.
 */

import type { WorkingHours } from "../flow/schema";
import { formatSlotForSpeech, localParts } from "../flow/time";
import { ProviderError } from "../lib/errors";
import type { Logger } from "../lib/log";
import { ACTION_PARAM_SCHEMAS, type ActionName, type ActionParams, isActionName } from "./action-schemas";
import type { CalcomClient } from "./calcom";
import type { HubspotClient } from "./hubspot";
import { pickSlots } from "./slots";

/** What an action tells the flow. `data` values are strings so they can fill `{{placeholders}}`. */
export type ActionResult =
  | { ok: true; outcome?: string; data: Record<string, string> }
  | { ok: false; error: string; retryable: boolean };

/** Port: the do-not-call list. Implemented elsewhere (DO storage + Postgres). */
export interface SuppressionStore {
  add(
    entry: { phone: string; reason: string; source: "call" | "web" | "admin"; callSid?: string },
    signal?: AbortSignal,
  ): Promise<void>;
}

/** Port: control of the live call. Implemented elsewhere (Twilio REST update with `<Dial>` TwiML). */
export interface CallControl {
  transfer(q: { callSid: string; to: string; reason?: string }, signal?: AbortSignal): Promise<void>;
}

/** Port: a short alert to the team channel (Slack webhook or chat.postMessage behind it). */
export interface ChatNotifier {
  notify(text: string, signal?: AbortSignal): Promise<void>;
}

/** Static per-campaign settings the actions need. */
export interface ActionConfig {
  eventTypeId: number;
  /** Default callee zone when the flow passes none. */
  defaultTimeZone: string;
  horizonDays?: number;
  bookingLengthMinutes?: number;
  workingHours?: WorkingHours;
  /** Minimum gap between now and a proposed slot. Default 1 h. */
  minNoticeMs?: number;
  transferNumber?: string;
  /** Per-action budget overrides; the default is {@link DEFAULT_ACTION_BUDGET_MS}. */
  budgetsMs?: Partial<Record<ActionName, number>>;
}

/** Everything an action may touch, injected per call. Absent ports make their actions fail cleanly. */
export interface ActionDeps {
  callSid: string;
  /** The callee's number (E.164), default target for suppression. */
  calleePhone?: string;
  config: ActionConfig;
  calendar?: Pick<CalcomClient, "getSlots" | "createBooking">;
  crm?: Pick<HubspotClient, "upsertContact" | "createMeeting" | "createNote">;
  chat?: ChatNotifier;
  suppressions?: SuppressionStore;
  callControl?: CallControl;
  /** Spoken phrasing of a slot. Default: the flow engine's `formatSlotForSpeech` relative to `nowMs()`. */
  formatSlot?: (iso: string, timeZone: string) => string;
  nowMs: () => number;
  logger?: Logger;
}

/** Default time budget of one action. */
export const DEFAULT_ACTION_BUDGET_MS = 2_000;

class ActionFailure extends Error {
  constructor(
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(code);
  }
}

function speak(deps: ActionDeps, iso: string, timeZone: string): string {
  return deps.formatSlot ? deps.formatSlot(iso, timeZone) : formatSlotForSpeech(iso, timeZone, deps.nowMs());
}

function need<T>(port: T | undefined, what: string): T {
  if (port === undefined) throw new ActionFailure(`${what} not configured`, false);
  return port;
}

type Handler<N extends ActionName> = (
  params: ActionParams<N>,
  deps: ActionDeps,
  signal: AbortSignal,
) => Promise<ActionResult>;

const HANDLERS: { [N in ActionName]: Handler<N> } = {
  async "cal.com:propose_slots"(p, deps, signal) {
    const calendar = need(deps.calendar, "calendar");
    const tz = p.timezone ?? deps.config.defaultTimeZone;
    const now = deps.nowMs();
    const days = p.horizon_days ?? deps.config.horizonDays ?? 7;
    const starts = await calendar.getSlots(
      {
        eventTypeId: deps.config.eventTypeId,
        start: new Date(now).toISOString(),
        end: new Date(now + days * 86_400_000).toISOString(),
        timeZone: tz,
      },
      signal,
    );
    const preferred = p.preferred_time ? preferenceFilter(p.preferred_time, tz) : null;
    const candidates = starts.map((s) => s.start);
    const narrowed = preferred ? candidates.filter(preferred) : candidates;
    const picked = pickSlots(narrowed.length > 0 ? narrowed : candidates, {
      timeZone: tz,
      nowMs: now,
      count: 2,
      minNoticeMs: deps.config.minNoticeMs ?? 3_600_000,
      workingHours: deps.config.workingHours,
    });
    const [first, second] = picked;
    if (first === undefined) return { ok: true, outcome: "no_slots", data: {} };
    // The flow phrases instants itself (in the callee's zone), so slots go back as ISO instants;
    // `*_spoken` carries our phrasing for flows that want text.
    const data: Record<string, string> = {
      slot_1: first,
      slot_1_iso: first,
      slot_1_spoken: speak(deps, first, tz),
    };
    if (second !== undefined) {
      data.slot_2 = second;
      data.slot_2_iso = second;
      data.slot_2_spoken = speak(deps, second, tz);
    }
    return { ok: true, data };
  },

  async "cal.com:create_booking"(p, deps, signal) {
    const calendar = need(deps.calendar, "calendar");
    const tz = p.timezone ?? deps.config.defaultTimeZone;
    const attendeePhone = p.phone ?? deps.calleePhone;
    const { booking, reconciled } = await calendar.createBooking(
      {
        eventTypeId: deps.config.eventTypeId,
        start: p.slot_iso,
        attendee: {
          name: p.name,
          email: p.email,
          timeZone: tz,
          language: "en",
          ...(attendeePhone ? { phoneNumber: attendeePhone } : {}),
        },
        callSid: deps.callSid,
        ...(deps.config.bookingLengthMinutes ? { lengthInMinutes: deps.config.bookingLengthMinutes } : {}),
        ...(p.notes ? { notes: p.notes } : {}),
      },
      signal,
    );
    return {
      ok: true,
      data: {
        booking_uid: booking.uid,
        slot_iso: booking.start,
        booked_start: booking.start,
        booked_start_spoken: speak(deps, booking.start, tz),
        reconciled: String(reconciled),
      },
    };
  },

  async "crm:create_meeting"(p, deps, signal): Promise<ActionResult> {
    const crm = need(deps.crm, "crm");
    const [firstname, ...rest] = (p.name ?? "").split(/\s+/).filter(Boolean);
    const phone = p.phone ?? deps.calleePhone;
    const contact = await crm.upsertContact(
      {
        email: p.email,
        ...(firstname ? { firstname } : {}),
        ...(rest.length > 0 ? { lastname: rest.join(" ") } : {}),
        ...(phone ? { phone } : {}),
      },
      signal,
    );
    if (p.slot_iso === undefined) {
      const noteId = await crm.createNote(
        {
          contactId: contact.id,
          body: `${p.title ?? "Follow-up"} requested by phone: ${p.when ?? "time not given"}`,
          timestampMs: deps.nowMs(),
        },
        signal,
      );
      return { ok: true, data: { contact_id: contact.id, note_id: noteId } };
    }
    const startMs = Date.parse(p.slot_iso);
    const lengthMin = p.length_minutes ?? deps.config.bookingLengthMinutes ?? 30;
    const meetingId = await crm.createMeeting(
      {
        contactId: contact.id,
        title: p.title ?? "Voice booking",
        startIso: new Date(startMs).toISOString(),
        endIso: new Date(startMs + lengthMin * 60_000).toISOString(),
        body: p.booking_uid
          ? `Booked by phone agent. Cal.com booking ${p.booking_uid}`
          : "Booked by phone agent.",
        outcome: "SCHEDULED",
      },
      signal,
    );
    return { ok: true, data: { contact_id: contact.id, meeting_id: meetingId } };
  },

  async "crm:add_suppression"(p, deps, signal) {
    const store = need(deps.suppressions, "suppression store");
    const phone = p.phone ?? deps.calleePhone;
    if (phone === undefined) throw new ActionFailure("no phone number to suppress", false);
    await store.add(
      { phone, reason: p.reason ?? "opt-out on call", source: "call", callSid: deps.callSid },
      signal,
    );
    return { ok: true, data: { suppressed: "true" } };
  },

  async transfer_to_human(p, deps, signal) {
    const control = need(deps.callControl, "call control");
    const to = p.to ?? deps.config.transferNumber;
    if (to === undefined) throw new ActionFailure("no transfer number configured", false);
    await control.transfer({ callSid: deps.callSid, to, ...(p.reason ? { reason: p.reason } : {}) }, signal);
    return { ok: true, data: { transferred_to: to } };
  },

  async "chat:notify"(p, deps, signal) {
    const chat = need(deps.chat, "chat");
    await chat.notify(chatText(p), signal);
    return { ok: true, data: { notified: "true" } };
  },
};

/** A chat line from either explicit text or the flow's fields: `[queue] template: key: value, …`. */
function chatText(p: ActionParams<"chat:notify">): string {
  if (p.text) return p.text;
  const { queue, template, text: _text, ...fields } = p;
  const head = [queue ? `[${queue}]` : "", template ?? "new lead"].filter(Boolean).join(" ");
  const body = Object.entries(fields)
    .filter((e): e is [string, string] => typeof e[1] === "string" && e[1].trim() !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`)
    .join(", ");
  return body ? `${head}: ${body}` : head;
}

const WEEKDAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

/** Narrow slots to the day and part of day the caller named, if any (in the callee's zone). */
function preferenceFilter(words: string, timeZone: string): ((iso: string) => boolean) | null {
  const w = words.toLowerCase();
  const day = WEEKDAYS.findIndex((d) => w.includes(d) || w.includes(d.slice(0, 3)));
  const part = /morning/.test(w) ? "am" : /afternoon|evening|after lunch/.test(w) ? "pm" : null;
  if (day < 0 && part === null) return null;
  return (iso) => {
    const local = localParts(Date.parse(iso), timeZone);
    if (day >= 0 && local.weekday !== day) return false;
    if (part === "am" && local.hour >= 12) return false;
    if (part === "pm" && local.hour < 12) return false;
    return true;
  };
}

function toFailure(err: unknown): ActionResult {
  if (err instanceof ActionFailure) return { ok: false, error: err.code, retryable: err.retryable };
  if (err instanceof ProviderError) {
    const error =
      err.status === 400 && err.provider === "calcom" ? "slot_unavailable" : `${err.provider}_error`;
    return { ok: false, error: `${error}: ${err.message}`, retryable: err.retryable };
  }
  return {
    ok: false,
    error: err instanceof Error ? `internal_error: ${err.message}` : "internal_error",
    retryable: false,
  };
}

/**
 * Run one flow action. Resolves (never rejects) within the action's budget: on expiry the
 * provider call is aborted and `{ ok: false, error: "timeout", retryable: true }` returned.
 */
export async function runAction(
  name: string,
  params: unknown,
  deps: ActionDeps,
  signal?: AbortSignal,
): Promise<ActionResult> {
  if (!isActionName(name)) return { ok: false, error: `unknown action ${name}`, retryable: false };
  const parsed = ACTION_PARAM_SCHEMAS[name].safeParse(params ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "params"}: ${i.message}`).join("; ");
    return { ok: false, error: `invalid params: ${detail}`, retryable: false };
  }
  if (signal?.aborted) return { ok: false, error: "aborted", retryable: false };

  const budgetMs = deps.config.budgetsMs?.[name] ?? DEFAULT_ACTION_BUDGET_MS;
  const budget = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onCallerAbort = () => {};
  // Settles at the budget or on caller abort even if a port ignores its signal.
  const cutoff = new Promise<ActionResult>((resolve) => {
    onCallerAbort = () => {
      budget.abort(signal?.reason);
      resolve({ ok: false, error: "aborted", retryable: false });
    };
    timer = setTimeout(() => {
      budget.abort(new Error(`action budget of ${budgetMs} ms spent`));
      resolve({ ok: false, error: "timeout", retryable: true });
    }, budgetMs);
  });
  signal?.addEventListener("abort", onCallerAbort, { once: true });
  const handler = HANDLERS[name] as Handler<ActionName>;
  const work = handler(parsed.data, deps, budget.signal).catch((err: unknown): ActionResult => {
    if (budget.signal.aborted && !signal?.aborted) return { ok: false, error: "timeout", retryable: true };
    if (signal?.aborted) return { ok: false, error: "aborted", retryable: false };
    return toFailure(err);
  });
  try {
    const result = await Promise.race([work, cutoff]);
    if (!result.ok)
      deps.logger?.warn("action failed", { action: name, error: result.error, retryable: result.retryable });
    return result;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onCallerAbort);
  }
}
