/**
 * When a closed calling window opens next, in a lead's own zone. Pure: the instant is a parameter, and
 * the window rules (days, hours, bank holidays, closed dates) are those of `callingWindowStatus`.
 */
import type { CallingWindow } from "../flow/schema";
import { callingWindowStatus, instantFromLocal, localParts } from "../flow/time";

const DAY_MS = 86_400_000;
/** How far ahead to look for an open window before giving up (covers Christmas and long closures). */
export const WINDOW_SEARCH_DAYS = 31;

/**
 * The first instant at or after `fromMs` at which calls may be placed in `timeZone`, or null when the
 * window does not open within {@link WINDOW_SEARCH_DAYS} days (for example a year without bank-holiday data).
 */
export function nextWindowOpenMs(fromMs: number, timeZone: string, window: CallingWindow): number | null {
  if (callingWindowStatus(fromMs, timeZone, window).open) return fromMs;
  const [h, m] = window.start.split(":").map(Number);
  const startHour = h ?? 0;
  const startMinute = m ?? 0;
  const today = localParts(fromMs, timeZone);
  for (let d = 0; d <= WINDOW_SEARCH_DAYS; d++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day) + d * DAY_MS);
    const local = {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
    };
    // A start time skipped by a spring-forward change opens an hour later on the wall clock.
    const opensAt =
      instantFromLocal({ ...local, hour: startHour, minute: startMinute }, timeZone) ??
      instantFromLocal({ ...local, hour: startHour + 1, minute: startMinute }, timeZone);
    if (opensAt === null || opensAt <= fromMs) continue;
    if (callingWindowStatus(opensAt, timeZone, window).open) return opensAt;
  }
  return null;
}
