import { describe, expect, it } from "vitest";
import { mintStreamToken, verifyStreamToken } from "../../src/telephony/stream-token";

const SID = "CA0123456789abcdef0123456789abcdef";

describe("stream tokens", () => {
  it("verifies for the CallSid it was minted for, until it expires", async () => {
    const token = await mintStreamToken("secret", SID, 1_000, 60_000);
    expect(await verifyStreamToken("secret", SID, token, 30_000)).toEqual({ ok: true });
    expect(await verifyStreamToken("secret", SID, token, 61_001)).toEqual({ ok: false, reason: "expired" });
  });

  it("refuses another call, another secret, a changed expiry and garbage", async () => {
    const token = await mintStreamToken("secret", SID, 1_000, 60_000);
    const other = SID.replace("CA0", "CA1");
    expect(await verifyStreamToken("secret", other, token, 2_000)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    expect(await verifyStreamToken("other", SID, token, 2_000)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    const [v, exp, sig] = token.split(".");
    const extended = `${v}.${Number(exp) + 3_600_000}.${sig}`;
    expect(await verifyStreamToken("secret", SID, extended, 2_000)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
    for (const junk of [undefined, "", "v1", "v2.1.x", "v1.abc.x"]) {
      expect(await verifyStreamToken("secret", SID, junk, 2_000)).toMatchObject({
        ok: false,
        reason: "malformed",
      });
    }
  });
});
