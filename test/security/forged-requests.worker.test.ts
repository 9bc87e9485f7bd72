/**
 * Security suite: forged and replayed Twilio webhooks, media handshakes, stream tokens and Cal.com
 * bookings against a Worker whose secrets are unset (a deploy that forgot them), malformed, and set;
 * oversized bodies on every webhook and JSON route. Every forged or replayed attempt is tallied and
 * the suite ends by reporting "tried / refused" and asserting that none was accepted.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { app } from "../../src/index";
import { computeCalSignature } from "../../src/integrations/calcom";
import { computeTwilioSignature } from "../../src/integrations/twilio-signature";
import { mintStreamToken } from "../../src/telephony/stream-token";
import { newCallSid, ORIGIN, TwilioMediaClient } from "../support/twilio-media-client";

const L = LOCAL_CREDENTIALS;
/** A Twilio Auth Token as a real deployment has one (32 hex). */
const TWILIO_TOKEN = "5f3c0a9e8b7d6c5e4f3a2b1c0d9e8f7a";
const CALCOM_SECRET = "sec-suite-calcom-webhook-secret";

/** `env` minus the local-development switch: what `wrangler deploy` runs with. */
function deployedBindings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { LOCAL_STAND_INS: _dropped, ...rest } = env as unknown as Record<string, unknown>;
  return { ...rest, PUBLIC_BASE_URL: ORIGIN, ...extra };
}

/** A deployment that forgot every secret. */
const UNSET = deployedBindings();
/** A deployment whose secrets are malformed: the public stand-in constants pasted as secrets. */
const MALFORMED = deployedBindings({
  LOCAL_STAND_INS: "true",
  TWILIO_AUTH_TOKEN: L.twilioAuthToken,
  CALCOM_WEBHOOK_SECRET: "short",
});
/** A deployment with every secret set (providers keyed for the local emulators). */
const SET = deployedBindings({
  TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
  TWILIO_ACCOUNT_SID: L.twilioAccountSid,
  CALCOM_WEBHOOK_SECRET: CALCOM_SECRET,
  CALCOM_API_KEY: L.calcom,
  DEEPGRAM_API_KEY: L.deepgram,
  ELEVENLABS_API_KEY: L.elevenlabs,
  OPENAI_API_KEY: L.openai,
  HUBSPOT_ACCESS_TOKEN: L.hubspot,
  SLACK_BOT_TOKEN: L.slack,
});

/** Every forged or replayed attempt, and the ones the Worker let through. */
const tally = { tried: 0, refused: 0, accepted: [] as string[] };

/** Count one attack; refused = an error status, or a replay acknowledged without any effect. */
function attack(name: string, res: Response, acknowledgedWithoutEffect = false): Response {
  tally.tried++;
  if (res.status >= 400 || acknowledgedWithoutEffect) tally.refused++;
  else tally.accepted.push(`${name}: ${res.status}`);
  return res;
}

async function send(bindings: Record<string, unknown>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A Twilio webhook: `signWith` the token (null = no signature), over `signedPath`/`signedParams` when they differ. */
async function twilioPost(
  bindings: Record<string, unknown>,
  path: string,
  params: Record<string, string>,
  signWith: string | null,
  signed: { path?: string; params?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (signWith !== null) {
    const url = `${ORIGIN}${signed.path ?? path}`;
    headers["x-twilio-signature"] = await computeTwilioSignature(signWith, url, signed.params ?? params);
  }
  return send(bindings, path, { method: "POST", headers, body: new URLSearchParams(params).toString() });
}

/** A media WebSocket upgrade signed for `signedSid`'s stream URL (default: the one requested). */
async function mediaUpgrade(
  bindings: Record<string, unknown>,
  callSid: string,
  signWith: string | null,
  signedSid = callSid,
): Promise<Response> {
  const headers: Record<string, string> = { upgrade: "websocket" };
  if (signWith !== null) {
    headers["x-twilio-signature"] = await computeTwilioSignature(
      signWith,
      `wss://agent.example/media/${signedSid}`,
      {},
    );
  }
  return send(bindings, `/media/${callSid}`, { headers });
}

function booking(uid: string): string {
  return JSON.stringify({
    triggerEvent: "BOOKING_CREATED",
    createdAt: "2026-11-20T09:00:00.000Z",
    payload: {
      uid,
      title: "Demo",
      startTime: "2026-12-03T10:00:00.000Z",
      endTime: "2026-12-03T10:30:00.000Z",
      status: "ACCEPTED",
      attendees: [{ name: "Jo Bloggs", email: `${uid}@example.com`, timeZone: "Europe/London" }],
      metadata: {},
    },
  });
}

async function bookingPost(
  bindings: Record<string, unknown>,
  body: string,
  signature: string | null,
): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["x-cal-signature-256"] = signature;
  return send(bindings, "/webhooks/booking", { method: "POST", headers, body });
}

const voiceParams = (callSid: string) => ({
  CallSid: callSid,
  From: "+447700900123",
  To: "+442071234567",
  Direction: "outbound-api",
});

async function expectNotConfigured(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ error: { code: "not_configured" } });
  // The body names neither the variable nor that stand-ins exist.
  expect(text).not.toMatch(/TWILIO|CALCOM|local|token|secret/i);
}

describe.each([
  ["unset (a deploy that forgot its secrets)", UNSET],
  ["malformed (the public stand-in pasted as a secret)", MALFORMED],
])("secrets %s", (_label, bindings) => {
  it("refuses Twilio webhooks signed with the public stand-in token with 503", async () => {
    for (const path of ["/twilio/voice", "/twilio/status", "/twilio/amd", "/twilio/campaign-status"]) {
      const params = { ...voiceParams(newCallSid()), CallStatus: "completed", AnsweredBy: "human" };
      await expectNotConfigured(
        attack(`${path} (stand-in)`, await twilioPost(bindings, path, params, L.twilioAuthToken)),
      );
    }
    const whisper = await twilioPost(
      bindings,
      "/twilio/transfer/whisper",
      { CallSid: newCallSid() },
      L.twilioAuthToken,
    );
    await expectNotConfigured(attack("/twilio/transfer/whisper (stand-in)", whisper));
  });

  it("refuses a media handshake signed with the public stand-in token with 503, before the Durable Object", async () => {
    const callSid = newCallSid();
    await expectNotConfigured(
      attack("media (stand-in)", await mediaUpgrade(bindings, callSid, L.twilioAuthToken)),
    );
    await expectNotConfigured(attack("media (unsigned)", await mediaUpgrade(bindings, callSid, null)));
  });

  it("refuses a Cal.com booking signed with the public stand-in secret with 503", async () => {
    const body = booking(`forged${crypto.randomUUID().slice(0, 8)}`);
    const res = await bookingPost(bindings, body, await computeCalSignature(body, L.calcomWebhook));
    await expectNotConfigured(attack("booking (stand-in)", res));
  });

  it("still tells the public it is up, and nothing else", async () => {
    const res = await send(bindings, "/healthz", {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, version: "test" });
  });
});

describe("secrets set", () => {
  it("refuses unsigned, stand-in-signed, wrong-token and tampered Twilio webhooks with 403", async () => {
    const params = voiceParams(newCallSid());
    const cases: [string, Response][] = [
      ["voice unsigned", await twilioPost(SET, "/twilio/voice", params, null)],
      ["voice stand-in token", await twilioPost(SET, "/twilio/voice", params, L.twilioAuthToken)],
      ["voice wrong token", await twilioPost(SET, "/twilio/voice", params, "0".repeat(32))],
      [
        "voice tampered From",
        await twilioPost(SET, "/twilio/voice", { ...params, From: "+15005550006" }, TWILIO_TOKEN, { params }),
      ],
    ];
    for (const [name, res] of cases) expect(attack(name, res).status, name).toBe(403);
  });

  it("refuses a signed webhook replayed to another URL, query or with other fields with 403", async () => {
    const callSid = newCallSid();
    const status = { CallSid: callSid, CallStatus: "in-progress" };
    const cases: [string, Response][] = [
      [
        "voice replayed with another flow",
        await twilioPost(SET, "/twilio/voice?flow=inbound-triage", voiceParams(callSid), TWILIO_TOKEN, {
          path: "/twilio/voice?flow=outbound-booking",
        }),
      ],
      [
        "status replayed as completed",
        await twilioPost(SET, "/twilio/status", { ...status, CallStatus: "completed" }, TWILIO_TOKEN, {
          params: status,
        }),
      ],
      [
        "status replayed to /twilio/amd",
        await twilioPost(SET, "/twilio/amd", { CallSid: callSid, AnsweredBy: "human" }, TWILIO_TOKEN, {
          path: "/twilio/status",
          params: { CallSid: callSid, AnsweredBy: "human" },
        }),
      ],
    ];
    for (const [name, res] of cases) expect(attack(name, res).status, name).toBe(403);
  });

  it("answers a correctly signed voice webhook (the forgeries above fail on their signature alone)", async () => {
    const res = await twilioPost(SET, "/twilio/voice", voiceParams(newCallSid()), TWILIO_TOKEN);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<Stream");
  });

  it("refuses unsigned, stand-in-signed and replayed-for-another-call media handshakes with 403", async () => {
    const callSid = newCallSid();
    const cases: [string, Response][] = [
      ["media unsigned", await mediaUpgrade(SET, callSid, null)],
      ["media stand-in token", await mediaUpgrade(SET, callSid, L.twilioAuthToken)],
      ["media replayed for another call", await mediaUpgrade(SET, callSid, TWILIO_TOKEN, newCallSid())],
    ];
    for (const [name, res] of cases) expect(attack(name, res).status, name).toBe(403);
    const signed = await mediaUpgrade(SET, callSid, TWILIO_TOKEN);
    expect(signed.status).toBe(101);
    signed.webSocket?.accept();
    signed.webSocket?.close(1000, "test done");
  });

  it("refuses unsigned, stand-in-signed and tampered bookings, and acknowledges a replay without writing twice", async () => {
    const uid = `sec${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
    const body = booking(uid);
    const good = await computeCalSignature(body, CALCOM_SECRET);
    expect(attack("booking unsigned", await bookingPost(SET, body, null)).status).toBe(401);
    const standIn = await bookingPost(SET, body, await computeCalSignature(body, L.calcomWebhook));
    expect(attack("booking stand-in secret", standIn).status).toBe(403);
    const tampered = await bookingPost(SET, body.replace("Jo Bloggs", "Mallory"), good);
    expect(attack("booking tampered", tampered).status).toBe(403);
    const first = await bookingPost(SET, body, good);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ duplicate: false });
    const replay = await bookingPost(SET, body, good);
    const replayBody = (await replay.json()) as { duplicate?: boolean };
    expect(replayBody).toMatchObject({ ok: true, duplicate: true });
    attack("booking replayed", replay, replayBody.duplicate === true);
  });
});

describe("stream tokens on a signed media socket", () => {
  async function startWith(token: (callSid: string) => Promise<string>): Promise<TwilioMediaClient> {
    const callSid = newCallSid();
    const client = await TwilioMediaClient.open(callSid, `wss://agent.example/media/${callSid}`);
    client.start({ token: await token(callSid), flow: "outbound-booking", direction: "outbound-api" });
    await client.waitFor(() => client.closed !== null, 5_000, "socket close");
    return client;
  }

  it("closes a socket whose stream token is forged, expired (replayed) or minted for another call", async () => {
    const now = Date.now();
    // The token signs the stream's other custom parameters too (they are what `startWith` sends).
    const params = { flow: "outbound-booking", direction: "outbound-api" };
    const cases: [string, (callSid: string) => Promise<string>][] = [
      ["stream token forged", (sid) => mintStreamToken("not-the-secret-at-all", sid, params, now, 60_000)],
      [
        "stream token expired",
        (sid) => mintStreamToken(L.twilioAuthToken, sid, params, now - 600_000, 60_000),
      ],
      [
        "stream token for another call",
        () => mintStreamToken(L.twilioAuthToken, newCallSid(), params, now, 60_000),
      ],
    ];
    for (const [name, token] of cases) {
      const client = await startWith(token);
      expect(client.closed?.code, name).toBe(1008);
      expect(client.agentBytes, name).toBe(0);
      tally.tried++;
      if (client.closed?.code === 1008 && client.agentBytes === 0) tally.refused++;
      else tally.accepted.push(name);
    }
  });
});

describe("body-size caps", () => {
  const huge = (bytes: number) => "a".repeat(bytes);

  it.each([
    ["/twilio/voice", "application/x-www-form-urlencoded", 1024 * 1024],
    ["/twilio/status", "application/x-www-form-urlencoded", 200 * 1024],
    ["/webhooks/booking", "application/json", 512 * 1024],
    ["/api/campaigns", "application/json", 2 * 1024 * 1024],
    ["/dashboard/login", "application/x-www-form-urlencoded", 200 * 1024],
    ["/admin/utterances/render?flow=outbound-booking", "application/json", 200 * 1024],
  ])("refuses a huge body on %s with 413 before parsing it", async (path, type, bytes) => {
    const res = await send(SET, path, {
      method: "POST",
      headers: { "content-type": type },
      body: huge(bytes),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "body_too_large" } });
  });

  it("counts a streamed body that declares no length", async () => {
    const chunk = new TextEncoder().encode(huge(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await send(SET, "/twilio/voice", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(64);
  });
});

describe("Redis down", () => {
  it("answers a signed booking with 503 and Retry-After, not 500", async () => {
    const down = {
      ...SET,
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "redis-down-token",
    };
    const body = booking(`redis${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`);
    const res = await bookingPost(down, body, await computeCalSignature(body, CALCOM_SECRET));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: "state_unavailable" } });
    expect(text).not.toMatch(/127\.0\.0\.1|redis|fetch/i);
  });
});

afterAll(() => {
  console.log(
    `forged or replayed requests tried: ${tally.tried}, refused: ${tally.refused}, accepted: ${tally.accepted.length}`,
  );
  expect(tally.accepted).toEqual([]);
  expect(tally.refused).toBe(tally.tried);
  expect(tally.tried).toBeGreaterThanOrEqual(30);
});
