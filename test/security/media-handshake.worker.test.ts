import { describe, expect, inject, it } from "vitest";
import { callStub } from "../support/audit";
import {
  fixture,
  newCallSid,
  scriptCaller,
  signedPost,
  TwilioMediaClient,
} from "../support/twilio-media-client";

const speech = inject("speechFixtures");

/** The `<Stream>` URL and custom parameters of a signed voice webhook answer, without starting a stream. */
async function answerParameters(
  callSid: string,
  query = "?flow=outbound-booking&var_first_name=Jo&var_lead_id=lead-1",
) {
  const res = await signedPost(`/twilio/voice${query}`, {
    CallSid: callSid,
    From: "+442071234567",
    To: "+447700900123",
    Direction: "outbound-api",
  });
  const twiml = await res.text();
  const url = /<Stream url="([^"]+)"/.exec(twiml)?.[1] ?? "";
  const params: Record<string, string> = {};
  for (const m of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g))
    params[m[1] ?? ""] = m[2] ?? "";
  return { url, params };
}

/** A second, Twilio-signed media socket for the same call that sends `params` as its start. */
async function replay(callSid: string, params: Record<string, string>): Promise<TwilioMediaClient> {
  const client = await TwilioMediaClient.open(callSid, `wss://agent.example/media/${callSid}`);
  client.start(params);
  await client.waitFor(() => client.closed !== null, 5_000, "the replayed socket to close");
  return client;
}

async function waitState(callSid: string, state: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await callStub(callSid).inspect()).record?.snapshot.state !== state) {
    if (Date.now() > deadline) throw new Error(`call did not reach ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("media stream handshakes (security)", () => {
  it("refuses a replayed handshake while the call is live, and the live call goes on untouched", async () => {
    const callSid = newCallSid();
    await scriptCaller(callSid, ["yes speaking"]);
    const live = await TwilioMediaClient.call({ callSid, query: "?flow=outbound-booking&var_first_name=Jo" });
    await live.waitIdle();
    const before = (await callStub(callSid).inspect()).record;

    const attacker = await replay(callSid, live.startParameters);
    expect(attacker.closed?.code).toBe(1008);
    expect(attacker.agentBytes).toBe(0);

    // The genuine socket still carries the call: its caller is heard and the flow moves on.
    expect(live.closed).toBeNull();
    await live.say(fixture(speech["bc-okay"]));
    await waitState(callSid, "qualify");
    const after = (await callStub(callSid).inspect()).record;
    expect(after?.meta).toEqual(before?.meta);
    live.close();
  });

  it("refuses a replayed handshake after the call ended, and the call stays ended", async () => {
    const callSid = newCallSid();
    const call = await TwilioMediaClient.call({ callSid, query: "?flow=outbound-booking&var_first_name=Jo" });
    await call.waitIdle();
    call.stop();
    const deadline = Date.now() + 10_000;
    while ((await callStub(callSid).inspect()).record?.snapshot.status !== "ended") {
      if (Date.now() > deadline) throw new Error("call did not end");
      await new Promise((r) => setTimeout(r, 50));
    }
    const ended = await callStub(callSid).inspect();

    const attacker = await replay(callSid, call.startParameters);
    expect(attacker.closed?.code).toBe(1008);
    // Asking to reopen it for a callback changes a signed parameter: refused as well.
    const reopen = await replay(callSid, { ...call.startParameters, resume: "callback" });
    expect(reopen.closed?.code).toBe(1008);
    expect(reopen.agentBytes).toBe(0);
    const now = await callStub(callSid).inspect();
    expect(now.record).toEqual(ended.record);
  });

  it("refuses a fresh token whose custom parameters were changed, and still accepts it unchanged", async () => {
    const callSid = newCallSid();
    const { url, params } = await answerParameters(callSid);
    expect(params.token).toMatch(/^v2\./);
    for (const tampered of [
      { ...params, var_lead_id: "lead-2" },
      { ...params, flow: "inbound-triage" },
      { ...params, direction: "inbound" },
      { ...params, var_first_name: "Mallory" },
    ]) {
      const refused = await replay(callSid, tampered);
      expect(refused.closed?.code).toBe(1008);
    }
    expect((await callStub(callSid).inspect()).record).toBeNull();

    // The refusals did not use the token up: the genuine handshake starts the call once.
    const genuine = await TwilioMediaClient.open(callSid, url);
    genuine.start(params);
    await genuine.waitIdle();
    expect(genuine.closed).toBeNull();
    const again = await replay(callSid, params);
    expect(again.closed?.code).toBe(1008);
    expect(genuine.closed).toBeNull();
    genuine.close();
  });

  it("refuses a token minted for another call", async () => {
    const victim = newCallSid();
    const { params } = await answerParameters(newCallSid());
    const refused = await replay(victim, params);
    expect(refused.closed?.code).toBe(1008);
    expect((await callStub(victim).inspect()).record).toBeNull();
  });
});
