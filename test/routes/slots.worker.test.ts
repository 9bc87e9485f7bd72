import { describe, expect, it } from "vitest";
import { isWithinWorkingHours } from "../../src/flow/time";
import { DEFAULT_WORKING_HOURS } from "../../src/integrations/slots";
import { callApp, testBindings } from "./business-support";

interface SlotsBody {
  timezone: string;
  slots: { start: string; spoken: string }[];
}

describe("GET /api/slots", () => {
  it("returns the first two bookable slots inside working hours in the callee's zone, each with its phrasing", async () => {
    const res = await callApp("/api/slots?owner_id=host-1&timezone=Europe/London&horizon_days=10");
    expect(res.status).toBe(200);
    const body = (await res.json()) as SlotsBody;
    expect(body.timezone).toBe("Europe/London");
    expect(body.slots).toHaveLength(2);
    const [a, b] = body.slots;
    expect(Date.parse(a?.start ?? "")).toBeLessThan(Date.parse(b?.start ?? ""));
    for (const s of body.slots) {
      expect(Date.parse(s.start)).toBeGreaterThan(Date.now() + 3_500_000);
      expect(isWithinWorkingHours(Date.parse(s.start), "Europe/London", DEFAULT_WORKING_HOURS)).toBe(true);
      expect(s.spoken).toMatch(
        /^(today|tomorrow|(Monday|Tuesday|Wednesday|Thursday|Friday) the [a-z-]+( of [A-Z][a-z]+)?) at .+/,
      );
    }
  });

  it("phrases the same instants in the callee's own zone", async () => {
    const res = await callApp("/api/slots?owner_id=host-1&timezone=America/New_York");
    expect(res.status).toBe(200);
    const body = (await res.json()) as SlotsBody;
    for (const s of body.slots) {
      expect(isWithinWorkingHours(Date.parse(s.start), "America/New_York", DEFAULT_WORKING_HOURS)).toBe(true);
    }
  });

  it.each([
    ["", "owner_id is required"],
    ["?owner_id=a%20b", "owner_id must be"],
    ["?owner_id=h&timezone=Mars/Olympus", "timezone must be an IANA zone"],
    ["?owner_id=h&horizon_days=0", "horizon_days must be between 1 and 31"],
    ["?owner_id=h&horizon_days=two", "horizon_days must be a whole number"],
  ])("answers %s with a 400 saying what is wrong", async (query, reason) => {
    const res = await callApp(`/api/slots${query}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad_query");
    expect(body.error.message).toContain(reason);
  });

  it("limits each client address (a public widget holds no secret): 429 with Retry-After beyond the limit", async () => {
    const limited = testBindings({ SLOTS_RATE_LIMIT_IP_PER_MINUTE: "2" });
    const from = (ip: string) =>
      callApp("/api/slots?owner_id=host-1", { headers: { "cf-connecting-ip": ip } }, limited);
    expect((await from("203.0.113.71")).status).toBe(200);
    expect((await from("203.0.113.71")).status).toBe(200);
    const third = await from("203.0.113.71");
    expect(third.status).toBe(429);
    const retryAfter = Number(third.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await third.json()) as { error: { code: string } };
    expect(body.error.code).toBe("rate_limited");
    // Malformed queries count too, so a flood of them cannot probe for free.
    expect(
      (await callApp("/api/slots", { headers: { "cf-connecting-ip": "203.0.113.71" } }, limited)).status,
    ).toBe(429);
    expect((await from("203.0.113.72")).status).toBe(200);
  });
});
