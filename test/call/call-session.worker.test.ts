import { env, evictDurableObject, SELF } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import type { CallSession } from "../../durable-objects/call-session";
import { pcmToMulawFrames, silence, tone } from "../../src/audio";
import { auditTrail, query } from "../support/audit";
import {
  fixture,
  newCallSid,
  ORIGIN,
  scriptCaller,
  signedPost,
  TwilioMediaClient,
} from "../support/twilio-media-client";

const urls = inject("emulatorUrls");
const speech = inject("speechFixtures");

const script = scriptCaller;

function stub(callSid: string): DurableObjectStub<CallSession> {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid));
}

async function stored(callSid: string) {
  return stub(callSid).inspect();
}

describe("Twilio webhooks", () => {
  it("refuses a voice webhook with a forged signature", async () => {
    const res = await signedPost(
      "/twilio/voice",
      { CallSid: newCallSid(), From: "+447700900123" },
      "not-the-token",
    );
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "signature_invalid" } });
  });

  it("answers a signed voice webhook with escaped <Connect><Stream> TwiML carrying a stream token", async () => {
    const callSid = newCallSid();
    const res = await signedPost("/twilio/voice?flow=outbound-booking&var_first_name=%3CJo%22%3E", {
      CallSid: callSid,
      From: "+447700900123",
      To: "+442071234567",
      Direction: "outbound-api",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/xml");
    const twiml = await res.text();
    expect(twiml).toContain(`<Stream url="wss://agent.example/media/${callSid}"`);
    expect(twiml).toContain('<Parameter name="var_first_name" value="&lt;Jo&quot;&gt;"/>');
    expect(twiml).toMatch(/<Parameter name="token" value="v2\.[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]+"\/>/);
  });

  it("rejects a malformed CallSid with a 400 and a reason", async () => {
    const res = await signedPost("/twilio/voice", { CallSid: "CA123" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "bad_params" } });
  });

  it("refuses an unsigned media upgrade before it reaches the Durable Object", async () => {
    const unsigned = await SELF.fetch(`${ORIGIN}/media/${newCallSid()}`, {
      headers: { upgrade: "websocket" },
    });
    expect(unsigned.status).toBe(403);
    const forged = await SELF.fetch(`${ORIGIN}/media/${newCallSid()}`, {
      headers: { upgrade: "websocket", "x-twilio-signature": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" },
    });
    expect(forged.status).toBe(403);
  });
});

describe("a call over the media WebSocket", () => {
  it("closes a signed socket whose stream token is not valid for the CallSid, before processing audio", async () => {
    const callSid = newCallSid();
    const client = await TwilioMediaClient.open(callSid, `wss://agent.example/media/${callSid}`);
    client.start({ token: "v1.99999999999999.forged", flow: "outbound-booking", direction: "outbound-api" });
    await client.waitFor(() => client.closed !== null, 5_000, "socket close");
    expect(client.closed?.code).toBe(1008);
    expect(client.agentBytes).toBe(0);
    expect((await stored(callSid)).record).toBeNull();
  });

  it("greets with marked audio, books the chosen slot through the flow, and hangs up through Twilio REST", async () => {
    const callSid = newCallSid();
    await script(callSid, [
      "yes speaking",
      "yes we are looking at that this quarter",
      "the first one please",
    ]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo&var_email=jo%40example.co.uk",
    });
    await client.waitIdle();
    expect(client.agentBytes).toBeGreaterThan(8_000);
    expect(client.marksSent).toBeGreaterThan(3);

    await client.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "qualify");
    await client.waitIdle();
    await client.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "book");
    await client.waitIdle();
    await client.say(fixture(speech["bc-okay"]));
    await expectEnded(callSid);

    const { record } = await stored(callSid);
    expect(record?.snapshot.path).toEqual(["greeting", "qualify", "book", "confirm", "close"]);
    const slot1 = record?.snapshot.vars.slot_1;
    expect(record?.snapshot.vars.slot).toBe(slot1);
    const cal = (await (await fetch(`${urls.calcom}/__emulator/state`)).json()) as {
      bookings: { start: string; metadata: { callSid?: string } }[];
    };
    const ours = cal.bookings.filter((b) => b.metadata.callSid === callSid);
    expect(ours).toHaveLength(1);
    expect(Date.parse(ours[0]?.start ?? "")).toBe(Date.parse(slot1 ?? ""));
    await eventually(async () => {
      const twilio = (await (await fetch(`${urls.twilio}/__emulator/state`)).json()) as {
        calls: { sid: string; status: string; updates: Record<string, string>[] }[];
      };
      const call = twilio.calls.find((c) => c.sid === callSid);
      expect(call?.status).toBe("completed");
      expect(call?.updates).toContainEqual(expect.objectContaining({ Status: "completed" }));
    });
    // The live call state (Redis shape; Durable Object storage when Upstash is not configured).
    const live = await stub(callSid).liveState(callSid);
    expect(live).toMatchObject({
      call_sid: callSid,
      state: "close",
      turns: 3,
      opted_out: false,
      slot_proposed: slot1,
    });
    // The audit trail reached Postgres through the outbox, exactly once per event.
    const trail = await auditTrail(callSid);
    const types = trail.map((e) => e.type);
    expect(types[0]).toBe("call.started");
    expect(types).toContain("state.transition");
    expect(new Set(trail.map((e) => e.id)).size).toBe(trail.length);
    expect(trail.map((e) => e.seq)).toEqual(trail.map((_, i) => i));
    // Each line the agent started is audited with its words (what the simulator prints), none dropped.
    const lines = trail.filter((e) => e.type === "agent.line").map((e) => e.payload);
    expect(lines[0]).toMatchObject({
      utteranceId: "u1",
      state: "greeting",
      text: expect.stringContaining("Jo"),
    });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(types).not.toContain("turn.dropped");
    const turns = await query<{ turn_index: number; path: string }>(
      "SELECT turn_index, path FROM turns WHERE call_sid = $1 ORDER BY turn_index",
      [callSid],
    );
    expect(turns.length).toBeGreaterThanOrEqual(2);
    // The QA scorecard is computed from the audit trail once it is all in Postgres.
    await eventually(async () => {
      const cards = await query<{ score: number }>("SELECT score FROM call_scorecards WHERE call_sid = $1", [
        callSid,
      ]);
      expect(cards).toHaveLength(1);
      const [card] = await query<{ unanswered_turns: number }>(
        "SELECT unanswered_turns FROM call_scorecards WHERE call_sid = $1",
        [callSid],
      );
      expect(card?.unanswered_turns).toBe(0);
      // The transcript is kept with the call, beside its recording.
      const stored = await env.MEDIA.get(`transcripts/${callSid}.json`);
      const body = (await stored?.json()) as { transcript: unknown[] } | undefined;
      expect(body?.transcript.length).toBeGreaterThan(3);
    }, 10_000);
    // "yes speaking" and "the first one" are obvious; the qualifying answer needs the LLM.
    expect(turns.map((t) => t.path)).toEqual(["fast_path", "live", "fast_path"]);
    client.close();
  });

  it("clears Twilio playback when the caller talks over the agent, and keeps only what was heard", async () => {
    const callSid = newCallSid();
    await script(callSid, ["sorry who is this"]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?flow=outbound-booking&var_first_name=Jo",
      playbackSpeed: 1,
    });
    await client.waitFor(() => client.marksSent >= 3, 5_000, "greeting audio");
    await client.say(fixture(speech["book-tuesday"]), 200, 1);
    await client.waitFor(() => client.clears > 0, 8_000, "clear frame");
    client.close();
    const bargeIn = (await auditTrail(callSid)).find((e) => e.type === "call.barge_in");
    expect(bargeIn).toBeDefined();
    expect(Number(bargeIn?.payload.reactionMs)).toBeGreaterThan(0);
    // How much of each cut line was heard, in characters (no words): the simulator's "[interrupted]".
    expect(bargeIn?.payload.cutLines).toContainEqual({ utteranceId: "u1", heardChars: expect.any(Number) });
    client.close();
  });

  it("does not interrupt the agent for a backchannel", async () => {
    const callSid = newCallSid();
    await script(callSid, ["mm hm"]);
    const client = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo", playbackSpeed: 1 });
    await client.waitFor(() => client.marksSent >= 3, 5_000, "greeting audio");
    await client.say(fixture(speech["bc-mm-hm"]), 100, 1);
    await new Promise((r) => setTimeout(r, 400));
    expect(client.clears).toBe(0);
    client.close();
  });

  it("takes a keyed slot choice as a flow event and books that slot", async () => {
    const callSid = newCallSid();
    await script(callSid, ["yes", "yes definitely"]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?var_first_name=Jo&var_email=jo%40example.co.uk",
    });
    await answerThrough(client, ["qualify", "book"]);
    client.dtmf("2");
    await expectEnded(callSid);
    const { record } = await stored(callSid);
    expect(record?.snapshot.vars.slot).toBe(record?.snapshot.vars.slot_2);
    client.close();
  });

  it("asks to confirm instead of booking when the keyed digit disagrees with the spoken choice", async () => {
    const callSid = newCallSid();
    await script(callSid, ["yes", "yes definitely", "the first one"]);
    const client = await TwilioMediaClient.call({
      callSid,
      query: "?var_first_name=Jo&var_email=jo%40example.co.uk",
    });
    await answerThrough(client, ["qualify", "book"]);
    const speaking = client.say(fixture(speech["call-back"]), 1_200, 2);
    await new Promise((r) => setTimeout(r, 400));
    client.dtmf("2");
    await speaking;
    await eventually(async () => {
      const trail = await auditTrail(callSid);
      expect(trail.map((e) => e.type)).toContain("dtmf.disagreed");
    }, 8_000);
    expect((await stored(callSid)).record?.snapshot.state).toBe("book");
    const cal = (await (await fetch(`${urls.calcom}/__emulator/state`)).json()) as {
      bookings: { metadata: { callSid?: string } }[];
    };
    expect(cal.bookings.filter((b) => b.metadata.callSid === callSid)).toHaveLength(0);
    client.close();
  });

  it("honours an opt-out at once: suppression recorded durably and in the do-not-call set, then a polite hang-up", async () => {
    const callSid = newCallSid();
    const callee = "+447700900555";
    await script(callSid, ["yes", "no take me off your list"]);
    const client = await TwilioMediaClient.call({ callSid, to: callee, query: "?var_first_name=Jo" });
    await answerThrough(client, ["qualify"]);
    await client.say(fixture(speech["bc-okay"]));
    await expectEnded(callSid);
    const { record } = await stored(callSid);
    expect(record?.snapshot.path.slice(-1)).toEqual(["opt_out"]);
    expect(record?.snapshot.optedOut).toBe(true);
    const trail = await auditTrail(callSid);
    const optOut = trail.find((e) => e.type === "opt_out.recorded" && e.payload.phone === callee);
    expect(optOut).toBeDefined();
    const rows = await query<{ phone: string }>("SELECT phone FROM suppressions WHERE phone = $1", [callee]);
    expect(rows.length).toBeGreaterThan(0);
    const dnc = env.EDGE_STATE.get(env.EDGE_STATE.idFromName("suppressions"));
    expect(await dnc.isSuppressed(callee)).toBe(true);
    client.close();
  });

  it("stops the pitch on an answering machine and leaves the voicemail message only after the beep", async () => {
    const callSid = newCallSid();
    const client = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo", playbackSpeed: 1 });
    await client.waitFor(() => client.marksSent >= 2, 5_000, "greeting audio");
    const amd = await signedPost("/twilio/amd", { CallSid: callSid, AnsweredBy: "machine_start" });
    expect(amd.status).toBe(204);
    await client.waitFor(() => client.clears > 0, 5_000, "greeting cleared");
    await expectState(callSid, "leave_voicemail");
    // The mailbox greeting plays (caller side); the agent stays silent until the beep.
    const silentFrom = client.agentBytes;
    await client.silence(600, 1);
    expect(client.agentBytes).toBe(silentFrom);
    const beep = pcmToMulawFrames(new Int16Array([...tone(1_000, 500), ...silence(200)]));
    for (const frame of beep) client.sendFrame(frame);
    await client.waitFor(
      () => client.agentBytes > silentFrom + 8_000,
      8_000,
      "voicemail message after the beep",
    );
    await eventually(async () => {
      const types = (await auditTrail(callSid)).map((e) => e.type);
      expect(types).toContain("voicemail.beep");
      expect(types).toContain("amd.callback");
    }, 10_000);
    client.close();
  });

  it("logs and drops malformed frames while the call goes on", async () => {
    const callSid = newCallSid();
    await script(callSid, ["yes it is"]);
    const client = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo" });
    await client.waitIdle();
    client.sendRaw("{not json");
    client.sendRaw(JSON.stringify({ event: "media", media: { timestamp: "1", payload: "%%%not-base64" } }));
    client.sendRaw(JSON.stringify({ event: "surprise", hello: 1 }));
    client.sendRaw(JSON.stringify({ event: "dtmf", dtmf: { digit: "12" } }));
    await client.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "qualify");
    expect(client.closed).toBeNull();
    client.close();
  });

  it("resumes where the flow was after the Durable Object is evicted, when Twilio reconnects", async () => {
    const callSid = newCallSid();
    await script(callSid, ["yes that's me", "yes we are"]);
    const first = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo" });
    await first.waitIdle();
    await first.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "qualify");
    await first.waitIdle();
    // A deploy drops the media socket and resets the object; Twilio follows the <Redirect> after
    // </Connect> back to the voice webhook and opens a new stream for the same call.
    first.close();
    await new Promise((r) => setTimeout(r, 100));
    await evictDurableObject(stub(callSid));

    const again = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo" });
    await new Promise((r) => setTimeout(r, 300));
    expect(again.agentBytes).toBe(0);
    await again.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "book");
    again.close();
    expect((await auditTrail(callSid)).filter((e) => e.type === "call.started")).toHaveLength(1);
  });

  it("resumes on a reconnected stream without replaying the greeting", async () => {
    const callSid = newCallSid();
    await script(callSid, ["yes that's me", "yes we are"]);
    const first = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo" });
    await first.waitIdle();
    await first.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "qualify");
    await first.waitIdle();
    first.close();
    await new Promise((r) => setTimeout(r, 100));

    const again = await TwilioMediaClient.call({ callSid, query: "?var_first_name=Jo" });
    await new Promise((r) => setTimeout(r, 300));
    expect(again.agentBytes).toBe(0);
    await again.say(fixture(speech["bc-okay"]));
    await expectState(callSid, "book");
    again.close();
  });
});

/** Answer each agent prompt with a short reply and wait until the flow reaches each state in turn. */
async function answerThrough(client: TwilioMediaClient, states: string[]): Promise<void> {
  for (const state of states) {
    await client.waitIdle();
    await client.say(fixture(speech["bc-okay"]));
    await expectState(client.callSid, state);
  }
  await client.waitIdle();
}

async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function expectState(callSid: string, state: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    last = (await stored(callSid)).record?.snapshot.state ?? "";
    if (last === state) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected state ${state}, still in ${last}`);
}

async function expectEnded(callSid: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = (await stored(callSid)).record?.snapshot;
    if (s?.status === "ended") return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const { record } = await stored(callSid);
  const s = record?.snapshot;
  const actions = (
    await query<{ payload: unknown }>(
      "SELECT payload FROM call_events WHERE call_sid = $1 AND type = 'action.result'",
      [callSid],
    )
  ).map((e) => JSON.stringify(e.payload));
  throw new Error(
    `call did not end (actions ${actions.join(" ")}); state ${s?.state} path ${s?.path.join(">")}`,
  );
}
