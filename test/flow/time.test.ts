// Slot phrasing, local time, working hours, calling windows and the bank-holiday data.
import { describe, expect, it } from "vitest";
import { ENGLAND_WALES_BANK_HOLIDAYS } from "../../src/flow/bank-holidays";
import {
  callingWindowStatus,
  formatSlotForSpeech,
  instantFromLocal,
  isWithinCallingWindow,
  isWithinWorkingHours,
  localParts,
  phraseClockTime,
} from "../../src/flow/time";

const at = (iso: string) => Date.parse(iso);

describe("formatSlotForSpeech", () => {
  it("phrases a GMT slot in full", () => {
    expect(formatSlotForSpeech("2025-03-04T10:30:00Z")).toBe(
      "Tuesday the fourth of March at half past ten in the morning",
    );
  });

  it("speaks BST slots in local time, not UTC", () => {
    expect(formatSlotForSpeech("2025-06-10T09:30:00Z")).toBe(
      "Tuesday the tenth of June at half past ten in the morning",
    );
    expect(formatSlotForSpeech("2025-06-10T09:30:00+01:00", "Europe/London")).toContain("half past nine");
  });

  it("uses the callee's zone", () => {
    expect(formatSlotForSpeech("2025-03-04T15:00:00Z", "America/New_York")).toBe(
      "Tuesday the fourth of March at ten o'clock in the morning",
    );
  });

  it("says today, tomorrow, or drops the month within the current month", () => {
    const now = at("2026-03-02T08:00:00Z");
    expect(formatSlotForSpeech("2026-03-02T14:15:00Z", "Europe/London", now)).toBe(
      "today at quarter past two in the afternoon",
    );
    expect(formatSlotForSpeech("2026-03-03T09:00:00Z", "Europe/London", now)).toBe(
      "tomorrow at nine o'clock in the morning",
    );
    expect(formatSlotForSpeech("2026-03-10T12:00:00Z", "Europe/London", now)).toBe(
      "Tuesday the tenth at midday",
    );
    expect(formatSlotForSpeech("2026-04-01T17:45:00+01:00", "Europe/London", now)).toBe(
      "Wednesday the first of April at quarter to six in the evening",
    );
  });

  it("knows tomorrow across the spring-forward night", () => {
    const now = at("2026-03-28T23:30:00Z");
    expect(formatSlotForSpeech("2026-03-29T09:00:00Z", "Europe/London", now)).toBe(
      "tomorrow at ten o'clock in the morning",
    );
  });

  it("rejects an unparseable instant", () => {
    expect(() => formatSlotForSpeech("next tuesday")).toThrow(RangeError);
  });
});

describe("phraseClockTime", () => {
  it.each([
    [0, 0, "midnight"],
    [12, 0, "midday"],
    [11, 45, "quarter to twelve in the morning"],
    [12, 45, "quarter to one in the afternoon"],
    [9, 5, "nine oh five in the morning"],
    [16, 20, "four twenty in the afternoon"],
    [0, 30, "half past twelve in the morning"],
    [20, 0, "eight o'clock in the evening"],
  ])("%i:%i is %s", (h, m, text) => {
    expect(phraseClockTime(h, m)).toBe(text);
  });
});

describe("local time", () => {
  it("reads wall-clock parts on both sides of the October change", () => {
    expect(localParts(at("2026-10-25T00:30:00Z"), "Europe/London")).toMatchObject({
      hour: 1,
      minute: 30,
      dateKey: "2026-10-25",
    });
    expect(localParts(at("2026-10-25T01:30:00Z"), "Europe/London")).toMatchObject({
      hour: 1,
      minute: 30,
      weekday: 0,
    });
  });

  it("maps local times to instants: null in the spring gap, earlier instant when ambiguous", () => {
    expect(
      instantFromLocal({ year: 2026, month: 3, day: 29, hour: 1, minute: 30 }, "Europe/London"),
    ).toBeNull();
    expect(instantFromLocal({ year: 2026, month: 10, day: 25, hour: 1, minute: 30 }, "Europe/London")).toBe(
      at("2026-10-25T00:30:00Z"),
    );
    expect(instantFromLocal({ year: 2026, month: 7, day: 1, hour: 10, minute: 0 }, "Europe/London")).toBe(
      at("2026-07-01T09:00:00Z"),
    );
  });
});

describe("working hours and calling windows", () => {
  const hours = {
    days: ["mon", "tue", "wed", "thu", "fri"] as ("mon" | "tue" | "wed" | "thu" | "fri")[],
    start: "09:00",
    end: "17:30",
  };

  it("treats working hours as [start, end) in local time", () => {
    expect(isWithinWorkingHours(at("2026-07-01T08:00:00Z"), "Europe/London", hours)).toBe(true);
    expect(isWithinWorkingHours(at("2026-07-01T07:59:00Z"), "Europe/London", hours)).toBe(false);
    expect(isWithinWorkingHours(at("2026-07-01T16:30:00Z"), "Europe/London", hours)).toBe(false);
    expect(isWithinWorkingHours(at("2026-07-04T10:00:00Z"), "Europe/London", hours)).toBe(false);
    expect(
      isWithinWorkingHours(at("2026-05-04T10:00:00Z"), "Europe/London", {
        ...hours,
        closedOnBankHolidays: true,
      }),
    ).toBe(false);
  });

  it("UK default window: 08:00-21:00 Monday to Saturday", () => {
    expect(isWithinCallingWindow(at("2026-03-07T20:59:00Z"))).toBe(true);
    expect(callingWindowStatus(at("2026-03-07T21:00:00Z")).reason).toBe("outside_hours");
    expect(callingWindowStatus(at("2026-07-06T06:59:00Z")).reason).toBe("outside_hours");
    expect(isWithinCallingWindow(at("2026-07-06T07:00:00Z"))).toBe(true);
    expect(callingWindowStatus(at("2026-03-08T12:00:00Z")).reason).toBe("closed_day");
  });

  it("no calls on bank holidays or years without holiday data, unless the campaign says otherwise", () => {
    expect(callingWindowStatus(at("2026-12-28T12:00:00Z")).reason).toBe("bank_holiday");
    expect(callingWindowStatus(at("2029-01-02T12:00:00Z")).reason).toBe("bank_holidays_unknown");
    const custom = {
      days: ["sun" as const],
      start: "10:00",
      end: "12:00",
      excludeBankHolidays: false,
      closedDates: ["2026-03-15"],
    };
    expect(isWithinCallingWindow(at("2026-03-08T10:30:00Z"), "Europe/London", custom)).toBe(true);
    expect(callingWindowStatus(at("2026-03-15T10:30:00Z"), "Europe/London", custom).reason).toBe(
      "closed_date",
    );
  });
});

describe("England & Wales bank holidays 2025-2028", () => {
  function easterSunday(year: number): Date {
    const a = year % 19;
    const b = Math.floor(year / 100);
    const c = year % 100;
    const d = Math.floor(b / 4);
    const e = b % 4;
    const f = Math.floor((b + 8) / 25);
    const g = Math.floor((b - f + 1) / 3);
    const h = (19 * a + b - d - g + 15) % 30;
    const i = Math.floor(c / 4);
    const k = c % 4;
    const l = (32 + 2 * e + 2 * i - h - k) % 7;
    const m = Math.floor((a + 11 * h + 22 * l) / 451);
    const month = Math.floor((h + l - 7 * m + 114) / 31);
    const day = ((h + l - 7 * m + 114) % 31) + 1;
    return new Date(Date.UTC(year, month - 1, day));
  }
  const key = (d: Date) => d.toISOString().slice(0, 10);
  const plusDays = (d: Date, n: number) => new Date(d.getTime() + n * 86_400_000);

  for (const year of [2025, 2026, 2027, 2028]) {
    it(`${year}: eight weekday holidays including Good Friday and Easter Monday`, () => {
      const dates = [...ENGLAND_WALES_BANK_HOLIDAYS].filter((d) => d.startsWith(`${year}-`));
      expect(dates).toHaveLength(8);
      for (const d of dates) expect([1, 2, 3, 4, 5]).toContain(new Date(`${d}T12:00:00Z`).getUTCDay());
      const easter = easterSunday(year);
      expect(dates).toContain(key(plusDays(easter, -2)));
      expect(dates).toContain(key(plusDays(easter, 1)));
    });
  }
});
