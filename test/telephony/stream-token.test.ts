import { describe, expect, it } from "vitest";
import { mintStreamToken, verifyStreamToken } from "../../src/telephony/stream-token";

const SID = "CA0123456789abcdef0123456789abcdef";
const PARAMS = { flow: "outbound-booking", direction: "outbound-api", var_lead_id: "lead-1" };

async function minted(nowMs = 1_000): Promise<Record<string, string>> {
  return { ...PARAMS, token: await mintStreamToken("secret", SID, PARAMS, nowMs, 60_000) };
}

describe("stream tokens", () => {
  it("verifies for the CallSid and parameters it was minted for, until it expires", async () => {
    const params = await minted();
    const ok = await verifyStreamToken("secret", SID, params, 30_000);
    expect(ok).toMatchObject({ ok: true, expiresAtMs: 61_000 });
    expect(await verifyStreamToken("secret", SID, params, 61_001)).toEqual({ ok: false, reason: "expired" });
  });

  it("gives every token its own id, so a used one can be remembered and refused", async () => {
    const a = await verifyStreamToken("secret", SID, await minted(), 2_000);
    const b = await verifyStreamToken("secret", SID, await minted(), 2_000);
    if (!a.ok || !b.ok) throw new Error("tokens should verify");
    expect(a.tokenId).not.toBe(b.tokenId);
  });

  it("refuses a changed, added or removed custom parameter", async () => {
    const params = await minted();
    for (const tampered of [
      { ...params, flow: "inbound-triage" },
      { ...params, var_lead_id: "lead-2" },
      { ...params, resume: "callback" },
      { ...params, var_email: "someone@example.com" },
      Object.fromEntries(Object.entries(params).filter(([k]) => k !== "var_lead_id")),
    ]) {
      expect(await verifyStreamToken("secret", SID, tampered, 2_000)).toEqual({
        ok: false,
        reason: "bad_signature",
      });
    }
  });

  it("refuses another call, another secret, a changed expiry and garbage", async () => {
    const params = await minted();
    const other = SID.replace("CA0", "CA1");
    expect(await verifyStreamToken("secret", other, params, 2_000)).toMatchObject({
      reason: "bad_signature",
    });
    expect(await verifyStreamToken("other", SID, params, 2_000)).toMatchObject({ reason: "bad_signature" });
    const [v, id, exp, sig] = (params.token ?? "").split(".");
    const extended = `${v}.${id}.${Number(exp) + 3_600_000}.${sig}`;
    expect(await verifyStreamToken("secret", SID, { ...params, token: extended }, 2_000)).toMatchObject({
      reason: "bad_signature",
    });
    for (const junk of [
      undefined,
      "",
      "v1",
      "v1.123.abc",
      "v2.1.x",
      "v2.short.1.x",
      "v2.aaaaaaaaaaaaaaaa.abc.x",
    ]) {
      const p: Record<string, string> = { ...PARAMS };
      if (junk !== undefined) p.token = junk;
      expect(await verifyStreamToken("secret", SID, p, 2_000)).toEqual({ ok: false, reason: "malformed" });
    }
  });
});
