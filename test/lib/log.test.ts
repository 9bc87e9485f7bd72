import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/lib/errors";
import { createLogger, errorFields, type LogFields, redact, truncateIp } from "../../src/lib/log";

function captured() {
  const lines: { msg: string; fields: LogFields }[] = [];
  const log = createLogger({ component: "t" }, "debug", (_l, msg, fields) => lines.push({ msg, fields }));
  return { log, lines };
}

describe("log sink scrubbing", () => {
  it("redacts personal fields and scrubs numbers and emails at any depth", () => {
    const out = JSON.stringify(
      redact({
        callSid: "CA0123456789abcdef0123456789abcdef",
        error: "Twilio 21211: The 'To' number +44 7700 900123 is not a valid phone number",
        nested: {
          deeper: [{ payload: { phone: "+447700900123", note: "mail jo@example.co.uk or +447700900123" } }],
        },
        durationMs: 1200,
      }),
    );
    expect(out).not.toContain("900123");
    expect(out).not.toContain("jo@example.co.uk");
    expect(out).toContain("CA0123456789abcdef0123456789abcdef");
    expect(out).toContain('"durationMs":1200');
    expect(out).toContain('"phone":"[redacted]"');
  });

  it("scrubs the message text and error objects handed to the logger", () => {
    const { log, lines } = captured();
    log.error("dial to +447700900123 failed", { err: new Error("bad number +447700900123") });
    expect(JSON.stringify(lines)).not.toContain("900123");
  });

  it("logs a provider failure as its code and status only", () => {
    const err = new ProviderError("twilio", "Unable to create record: +447700900123 is unverified", 400, {
      code: "21608",
      requestId: "RQ1",
    });
    expect(errorFields(err)).toEqual({
      name: "ProviderError",
      provider: "twilio",
      status: 400,
      code: "21608",
      retryable: false,
      requestId: "RQ1",
    });
  });

  it("keeps no more than the network of a client IP", () => {
    expect(truncateIp("203.0.113.77")).toBe("203.0.113.0/24");
    expect(truncateIp("2001:db8:85a3:8d3:1319:8a2e:370:7348")).toBe("2001:db8:85a3::/48");
    expect(redact({ clientIp: "203.0.113.77, 10.0.0.1" })).toEqual({ clientIp: "203.0.113.0/24" });
  });
});
