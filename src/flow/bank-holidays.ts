/** England & Wales bank holidays 2025–2028 (gov.uk list, substitute days included), as local dates. */

/** Local dates (YYYY-MM-DD) on which no outbound calls are placed by default. */
export const ENGLAND_WALES_BANK_HOLIDAYS: ReadonlySet<string> = new Set([
  // 2025
  "2025-01-01",
  "2025-04-18",
  "2025-04-21",
  "2025-05-05",
  "2025-05-26",
  "2025-08-25",
  "2025-12-25",
  "2025-12-26",
  // 2026 (Boxing Day falls on a Saturday: substitute Monday 28 December)
  "2026-01-01",
  "2026-04-03",
  "2026-04-06",
  "2026-05-04",
  "2026-05-25",
  "2026-08-31",
  "2026-12-25",
  "2026-12-28",
  // 2027 (Christmas Saturday, Boxing Day Sunday: substitutes 27 and 28 December)
  "2027-01-01",
  "2027-03-26",
  "2027-03-29",
  "2027-05-03",
  "2027-05-31",
  "2027-08-30",
  "2027-12-27",
  "2027-12-28",
  // 2028 (New Year's Day Saturday: substitute Monday 3 January)
  "2028-01-03",
  "2028-04-14",
  "2028-04-17",
  "2028-05-01",
  "2028-05-29",
  "2028-08-28",
  "2028-12-25",
  "2028-12-26",
]);

/** First and last years the list covers; outside them the calling window refuses to guess. */
export const BANK_HOLIDAY_YEARS = { first: 2025, last: 2028 } as const;
