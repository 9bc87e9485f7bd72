import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTwilioRestClient } from "../../src/integrations/twilio-rest";
import { twilioParamsFromForm, validateTwilioSignature } from "../../src/integrations/twilio-signature";
import { ProviderError } from "../../src/lib/errors";
import { startTwilioEmulator, type TwilioEmulator } from "../../src/tooling/emulators/twilio";

let emu: TwilioEmulator;
beforeEach(async () => {
  // These tests drive each call's progress by hand.
  emu = await startTwilioEmulator({ lifecycle: { mode: "manual" } });
});
afterEach(async () => {
  await emu.close();
});
const client = () =>
  createTwilioRestClient({ accountSid: emu.accountSid, authToken: emu.authToken, baseUrl: emu.url });

/** A local webhook receiver that checks X-Twilio-Signature the way our routes do. */
async function receiver(authToken: string) {
  const got: { path: string; params: Record<string, string | string[]>; valid: boolean }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      void (async () => {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url ?? "/"}`;
        const params = twilioParamsFromForm(new URLSearchParams(body));
        const sig = req.headers["x-twilio-signature"];
        const valid = await validateTwilioSignature({
          authToken,
          url,
          params,
          signature: typeof sig === "string" ? sig : undefined,
        });
        got.push({ path: req.url ?? "", params, valid });
        res.writeHead(valid ? 204 : 403).end();
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("Twilio REST client against the emulator", () => {
  it("creates an outbound call with async AMD and status callbacks", async () => {
    const call = await client().createCall({
      to: "+447700900123",
      from: "+442079460000",
      url: "https://agent.example/twilio/voice",
      statusCallback: "https://agent.example/twilio/status",
      statusCallbackEvents: ["initiated", "answered", "completed"],
      amd: { mode: "DetectMessageEnd", async: true, asyncStatusCallback: "https://agent.example/twilio/amd" },
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe("queued");
    const params = emu.calls()[0]?.createParams;
    expect(params).toMatchObject({
      To: "+447700900123",
      MachineDetection: "DetectMessageEnd",
      AsyncAmd: "true",
      AsyncAmdStatusCallback: "https://agent.example/twilio/amd",
      StatusCallbackEvent: ["initiated", "answered", "completed"],
    });
  });

  it("replaces the TwiML of a live call and hangs it up", async () => {
    const c = client();
    const call = await c.createCall({ to: "+447700900123", from: "+442079460000", twiml: "<Response/>" });
    await emu.progressCall(call.sid, "in-progress");
    const updated = await c.updateCall(call.sid, {
      twiml: "<Response><Dial>+442079460001</Dial></Response>",
    });
    expect(updated.sid).toBe(call.sid);
    const ended = await c.updateCall(call.sid, { status: "completed" });
    expect(ended.status).toBe("completed");
    expect(emu.calls()[0]?.updates).toEqual([
      { Twiml: "<Response><Dial>+442079460001</Dial></Response>" },
      { Status: "completed" },
    ]);
  });

  it("marks an unanswered call hung up by us as canceled", async () => {
    const c = client();
    const call = await c.createCall({
      to: "+447700900123",
      from: "+442079460000",
      url: "https://a.example/v",
    });
    expect((await c.updateCall(call.sid, { status: "completed" })).status).toBe("canceled");
  });

  it("rejects bad credentials and unknown calls with Twilio's error shape", async () => {
    const bad = createTwilioRestClient({ accountSid: emu.accountSid, authToken: "nope", baseUrl: emu.url });
    const err = await bad
      .createCall({ to: "+447700900123", from: "+442079460000", url: "https://a/v" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({
      status: 401,
      retryable: false,
      message: expect.stringContaining("Authenticate"),
    });
    await expect(client().updateCall("CAmissing", { status: "completed" })).rejects.toMatchObject({
      status: 404,
    });
  });

  it("sends signed status and AMD callbacks that our validator accepts", async () => {
    const rx = await receiver(emu.authToken);
    try {
      const call = await client().createCall({
        to: "+447700900123",
        from: "+442079460000",
        url: `${rx.base}/twilio/voice`,
        statusCallback: `${rx.base}/twilio/status?campaign=spring`,
        statusCallbackEvents: ["answered", "completed"],
        amd: { mode: "Enable", async: true, asyncStatusCallback: `${rx.base}/twilio/amd` },
      });
      await emu.progressCall(call.sid, "ringing");
      await emu.progressCall(call.sid, "in-progress", { answeredBy: "machine_start" });
      await emu.progressCall(call.sid, "completed");
      expect(rx.got.map((g) => [g.path, g.params.CallStatus ?? g.params.AnsweredBy, g.valid])).toEqual([
        ["/twilio/status?campaign=spring", "in-progress", true],
        ["/twilio/amd", "machine_start", true],
        ["/twilio/status?campaign=spring", "completed", true],
      ]);
      expect(emu.callbacks().every((c) => c.status === 204)).toBe(true);
    } finally {
      await rx.close();
    }
  });
});
