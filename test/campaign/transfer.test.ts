import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signTransferToken, verifyTransferToken } from "../../src/campaign/transfer-token";
import { callerHoldTwiml, whisperText, whisperTwiml } from "../../src/campaign/transfer-twiml";
import { startWarmTransfer } from "../../src/campaign/warm-transfer";
import type { CreateCallParams, UpdateCallParams } from "../../src/integrations/twilio-rest";

const CALL = `CA${"a".repeat(32)}`;
const ctx = {
  who: "Jo <Bloggs> & Co",
  why: 'wants a "quote"',
  captured: { preferred_time: "Tue 10am", budget: "£5k" },
};

describe("warm transfer TwiML", () => {
  it("holds the caller in a named conference with no hold music, then the escaped whisper for the human", () => {
    const hold = callerHoldTwiml({
      conference: "wt-x",
      holdLine: "Hold <please>",
      actionUrl: "https://a.example/d?t=1&u=2",
    });
    expect(hold).toContain('<Say language="en-GB">Hold &lt;please&gt;</Say>');
    expect(hold).toContain('<Dial action="https://a.example/d?t=1&amp;u=2" method="POST">');
    expect(hold).toContain(
      'startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" waitUrl=""',
    );
    const whisper = whisperTwiml({ conference: "wt-x", context: ctx });
    expect(whisper).toContain("Caller: Jo &lt;Bloggs&gt; &amp; Co.");
    expect(whisper).toContain("Reason: wants a &quot;quote&quot;.");
    expect(whisper).toContain("Captured: preferred time: Tue 10am; budget: £5k.");
    expect(whisper).toMatch(
      /<\/Say><Dial><Conference startConferenceOnEnter="true"[^>]*>wt-x<\/Conference><\/Dial>/,
    );
  });

  it("never lets context text open or close an element", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (who, why, value) => {
        const twiml = whisperTwiml({ conference: "wt-x", context: { who, why, captured: { note: value } } });
        const inner = twiml.slice(twiml.indexOf("<Say"), twiml.indexOf("</Say>"));
        expect(inner.slice(inner.indexOf(">") + 1)).not.toMatch(/[<>]/);
        expect(twiml.match(/<Say/g)).toHaveLength(1);
      }),
    );
  });

  it("omits empty parts of the context", () => {
    expect(whisperText({ who: "", why: "", captured: { a: " " } })).toBe(
      "Call transfer from the voice agent. Connecting you now.",
    );
  });
});

describe("signed transfer parameters", () => {
  it("round-trips, and refuses forged, tampered and stale tokens", async () => {
    const token = await signTransferToken("s3cret", {
      v: 1,
      callSid: CALL,
      conf: "wt-x",
      flow: "outbound-booking",
      iat: 1_000,
      ctx,
    });
    const ok = await verifyTransferToken("s3cret", token, 2_000, 60_000);
    expect(ok).toMatchObject({ ok: true, token: { callSid: CALL, ctx } });
    expect(await verifyTransferToken("other", token, 2_000, 60_000)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    const [, body, sig] = token.split(".");
    const tampered = `wt1.${body?.slice(0, -2)}AA.${sig}`;
    expect((await verifyTransferToken("s3cret", tampered, 2_000, 60_000)).ok).toBe(false);
    expect(await verifyTransferToken("s3cret", token, 100_000, 60_000)).toEqual({
      ok: false,
      reason: "expired",
    });
    expect(await verifyTransferToken("s3cret", undefined, 2_000, 60_000)).toEqual({
      ok: false,
      reason: "malformed",
    });
  });
});

describe("startWarmTransfer", () => {
  function fakes(failCreate = false) {
    const updates: { sid: string; p: UpdateCallParams }[] = [];
    const creates: CreateCallParams[] = [];
    const notes: string[] = [];
    return {
      updates,
      creates,
      notes,
      deps: {
        twilio: {
          updateCall: async (sid: string, p: UpdateCallParams) => {
            updates.push({ sid, p });
            return { sid, status: "in-progress" };
          },
          createCall: async (p: CreateCallParams) => {
            if (failCreate) throw new Error("invalid To");
            creates.push(p);
            return { sid: `CA${"b".repeat(32)}`, status: "queued" };
          },
        },
        crm: {
          upsertContact: async () => ({ id: "101", created: false }),
          createNote: async (q: { body: string }) => {
            notes.push(q.body);
            return "n1";
          },
        },
        secret: "s3cret",
        publicBaseUrl: "https://agent.example",
        nowMs: 1_000,
      },
    };
  }
  const req = {
    callSid: CALL,
    flow: "outbound-booking",
    agentNumber: "+442079460000",
    callerId: "+442071234567",
    timeoutSeconds: 20,
    context: ctx,
    contact: { email: "jo@example.com" },
  };

  it("moves the caller into the conference, rings the human with the whisper URL and the timeout, and notes the CRM", async () => {
    const f = fakes();
    const result = await startWarmTransfer(f.deps, req);
    expect(result).toMatchObject({ conference: `wt-${CALL}`, fallback: false, crmNote: "written" });
    expect(f.updates[0]?.sid).toBe(CALL);
    expect(JSON.stringify(f.updates[0]?.p)).toContain(`wt-${CALL}`);
    const agent = f.creates[0];
    expect(agent).toMatchObject({ to: "+442079460000", from: "+442071234567", timeoutSeconds: 20 });
    expect(new URL(agent?.url ?? "").pathname).toBe("/twilio/transfer/whisper");
    expect(new URL(agent?.statusCallback ?? "").pathname).toBe("/twilio/transfer/agent-status");
    expect(f.notes[0]).toContain("Caller: Jo <Bloggs> & Co.");
  });

  it("sends the caller straight back for a callback when the human's leg cannot be created", async () => {
    const f = fakes(true);
    const result = await startWarmTransfer(f.deps, req);
    expect(result.fallback).toBe(true);
    const back = f.updates[1]?.p;
    expect(back).toEqual({
      url: "https://agent.example/twilio/voice?flow=outbound-booking&resume=callback",
      method: "POST",
    });
  });
});
