import { describe, expect, it } from "vitest";
import { startWarmTransfer } from "../../src/campaign/warm-transfer";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { createHubspotClient } from "../../src/integrations/hubspot";
import { createTwilioRestClient } from "../../src/integrations/twilio-rest";
import { computeTwilioSignature } from "../../src/integrations/twilio-signature";
import {
  callApp,
  emulatorState,
  ORIGIN,
  requestsMentioning,
  testBindings,
  unique,
  urls,
} from "./business-support";

interface EmulatedCall {
  sid: string;
  to: string;
  status: string;
  createParams: Record<string, string | string[]>;
  updates: Record<string, string | string[]>[];
}

const twilio = () =>
  createTwilioRestClient({
    accountSid: LOCAL_CREDENTIALS.twilioAccountSid,
    authToken: LOCAL_CREDENTIALS.twilioAuthToken,
    baseUrl: urls.twilio,
  });

async function call(sid: string): Promise<EmulatedCall> {
  const found = (await emulatorState<{ calls: EmulatedCall[] }>("twilio")).calls.find((c) => c.sid === sid);
  if (!found) throw new Error(`no call ${sid}`);
  return found;
}

async function twilioPost(url: string, params: Record<string, string>): Promise<Response> {
  const signature = await computeTwilioSignature(LOCAL_CREDENTIALS.twilioAuthToken, url, params);
  const u = new URL(url);
  return callApp(
    `${u.pathname}${u.search}`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
      body: new URLSearchParams(params).toString(),
    },
    testBindings({ TRANSFER_TIMEOUT_SECONDS: "20" }),
  );
}

/** A live caller leg in the emulator, then a warm transfer of it. */
async function transfer(tag: string) {
  const caller = await twilio().createCall({
    to: "+447700900555",
    from: "+442071234567",
    url: `${ORIGIN}/twilio/voice`,
  });
  await fetch(`${urls.twilio}/__emulator/calls/${caller.sid}/progress`, {
    method: "POST",
    body: JSON.stringify({ status: "in-progress" }),
  });
  const result = await startWarmTransfer(
    {
      twilio: twilio(),
      crm: createHubspotClient({ accessToken: LOCAL_CREDENTIALS.hubspot, baseUrl: urls.hubspot }),
      secret: LOCAL_CREDENTIALS.twilioAuthToken,
      publicBaseUrl: ORIGIN,
      nowMs: Date.now(),
    },
    {
      callSid: caller.sid,
      flow: "outbound-booking",
      agentNumber: "+442079460000",
      callerId: "+442071234567",
      timeoutSeconds: 20,
      context: {
        who: `Jo <${tag}>`,
        why: "wants a quote & a visit",
        captured: { preferred_time: "Tuesday 10am" },
      },
      contact: { email: `${tag}@example.com` },
      campaign: "cmp_00000000000000000009",
    },
  );
  if (!result.agentCallSid) throw new Error("agent leg not created");
  return { caller: caller.sid, agent: await call(result.agentCallSid), result };
}

describe("warm transfer", () => {
  it("holds the caller in a conference, whispers the context to the human, and notes the CRM", async () => {
    const tag = `wt${unique()}`;
    const { caller, agent, result } = await transfer(tag);
    expect(result.crmNote).toBe("written");
    const hold = String((await call(caller)).updates[0]?.Twiml);
    expect(hold).toContain(
      `<Conference startConferenceOnEnter="false" endConferenceOnExit="true" beep="false" waitUrl="">wt-${caller}</Conference>`,
    );
    expect(agent.createParams.Timeout).toBe("20");
    const whisper = await twilioPost(String(agent.createParams.Url), {
      CallSid: agent.sid,
      From: "+442071234567",
    });
    expect(whisper.status).toBe(200);
    const twiml = await whisper.text();
    expect(twiml).toContain(
      `Caller: Jo &lt;${tag}&gt;. Reason: wants a quote &amp; a visit. Captured: preferred time: Tuesday 10am.`,
    );
    expect(twiml).toContain(
      `<Conference startConferenceOnEnter="true" endConferenceOnExit="true" beep="false">wt-${caller}</Conference>`,
    );
    const notes = (await requestsMentioning("hubspot", tag)).filter((r) => r.path.includes("/notes"));
    expect(notes).toHaveLength(1);

    // Answered: the human's leg completes after the conversation; the caller is left alone, then hears goodbye.
    expect(
      (
        await twilioPost(String(agent.createParams.StatusCallback), {
          CallSid: agent.sid,
          CallStatus: "completed",
        })
      ).status,
    ).toBe(204);
    expect((await call(caller)).updates).toHaveLength(1);
    const hold2 = /action="([^"]+)"/.exec(hold)?.[1]?.replace(/&amp;/g, "&") ?? "";
    const done = await twilioPost(hold2, { CallSid: caller, DialCallStatus: "completed" });
    expect(await done.text()).toContain("<Hangup/>");
  });

  it("offers the caller a callback when nobody answers within the timeout", async () => {
    const { caller, agent } = await transfer(`wt${unique()}`);
    const res = await twilioPost(String(agent.createParams.StatusCallback), {
      CallSid: agent.sid,
      CallStatus: "no-answer",
    });
    expect(res.status).toBe(204);
    const back = (await call(caller)).updates[1];
    expect(back?.Url).toBe(
      `${ORIGIN}/twilio/voice?flow=outbound-booking&resume=callback&campaign=cmp_00000000000000000009`,
    );
  });

  it("refuses forged transfer parameters and unsigned requests", async () => {
    const { agent } = await transfer(`wt${unique()}`);
    const url = new URL(String(agent.createParams.Url));
    url.searchParams.set("t", `${url.searchParams.get("t")?.slice(0, -4)}AAAA`);
    const forged = await twilioPost(url.toString(), { CallSid: agent.sid });
    expect(await forged.text()).toContain("no longer available");
    const unsigned = await callApp(new URL(String(agent.createParams.Url)).pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `CallSid=${agent.sid}`,
    });
    expect(unsigned.status).toBe(403);
  });
});
