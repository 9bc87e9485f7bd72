import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { AppConfig } from "../../../src/config/config";
import { createTwilioRestClient } from "../../../src/integrations/twilio-rest";
import { twilioParamsFromForm } from "../../../src/integrations/twilio-signature";
import { AmdParams, StatusParams, signedTwilioForm } from "../../../src/telephony/twilio-webhook";
import { startTwilioEmulator, type TwilioEmulator } from "../../../src/tooling/emulators/twilio";
import { DEFAULT_LIFECYCLE, planLifecycle } from "../../../src/tooling/emulators/twilio-lifecycle";
import { seededRandom } from "../../../src/tooling/simulator/amd-timing";

interface Received {
  path: string;
  url: string;
  body: string;
  params: Record<string, string>;
  signature: string | undefined;
  token: string | undefined;
}

/** A webhook receiver that keeps each request raw, so our own route parsing can be run over it. */
async function receiver() {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url ?? "/"}`;
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(twilioParamsFromForm(new URLSearchParams(body)))) {
        params[k] = Array.isArray(v) ? (v[0] ?? "") : v;
      }
      const sig = req.headers["x-twilio-signature"];
      const token = req.headers["i-twilio-idempotency-token"];
      got.push({
        path: req.url ?? "",
        url,
        body,
        params,
        signature: typeof sig === "string" ? sig : undefined,
        token: typeof token === "string" ? token : undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Run a received webhook through the app's own check-and-parse (signature + zod), as the routes do. */
function parseAsApp<T>(emu: TwilioEmulator, r: Received, schema: Parameters<typeof signedTwilioForm<T>>[2]) {
  // Only the Twilio credential and the public base URL are read by signedTwilioForm.
  const config = { twilio: { credential: emu.authToken }, publicBaseUrl: undefined } as unknown as AppConfig;
  return signedTwilioForm(
    config,
    {
      url: r.url,
      header: (name) => (name.toLowerCase() === "x-twilio-signature" ? r.signature : undefined),
      parseBody: async () => r.params,
    },
    schema,
  );
}

const open: TwilioEmulator[] = [];
const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
  await Promise.all(servers.splice(0).map((c) => c()));
});

async function setup(lifecycle: Parameters<TwilioEmulator["setLifecycle"]>[0]) {
  const emu = await startTwilioEmulator({ lifecycle });
  open.push(emu);
  const rx = await receiver();
  servers.push(rx.close);
  const client = createTwilioRestClient({
    accountSid: emu.accountSid,
    authToken: emu.authToken,
    baseUrl: emu.url,
  });
  const place = (to = "+447700900123") =>
    client.createCall({
      to,
      from: "+442079460000",
      url: `${rx.base}/twilio/voice`,
      statusCallback: `${rx.base}/twilio/status`,
      statusCallbackEvents: ["initiated", "ringing", "answered", "completed"],
      amd: { mode: "DetectMessageEnd", async: true, asyncStatusCallback: `${rx.base}/twilio/amd` },
    });
  return { emu, rx, client, place };
}

describe("Twilio emulator call lifecycle", () => {
  it("plans AMD a seeded 2–5 s after answer by default, the same for the same seed", () => {
    const plan = (seed: string) =>
      planLifecycle(DEFAULT_LIFECYCLE, { to: "+447700900123", asyncAmd: true }, seededRandom(seed));
    const a = plan("s1");
    expect(a.map((s) => (s.kind === "amd" ? `amd:${s.answeredBy}` : s.status))).toEqual([
      "initiated",
      "ringing",
      "in-progress",
      "amd:human",
    ]);
    const answerAt = a[2]?.atMs ?? 0;
    const amd = a[3];
    expect(amd?.kind).toBe("amd");
    const after = (amd?.atMs ?? 0) - answerAt;
    expect(after).toBeGreaterThanOrEqual(2_000);
    expect(after).toBeLessThanOrEqual(5_000);
    expect(plan("s1")).toEqual(a);
    const delays = new Set(["a", "b", "c", "d", "e"].map((s) => plan(s)[3]?.atMs));
    expect(delays.size).toBeGreaterThan(1);
  });

  it("plans a busy number without an answer or an AMD result", () => {
    const opts = { ...DEFAULT_LIFECYCLE, byNumber: { "+447700900999": { outcome: "busy" as const } } };
    const steps = planLifecycle(opts, { to: "+447700900999", asyncAmd: true }, seededRandom("x"));
    expect(steps.map((s) => (s.kind === "status" ? s.status : s.kind))).toEqual([
      "initiated",
      "ringing",
      "busy",
    ]);
  });

  it("progresses a placed call by itself: status callbacks per StatusCallbackEvent, then the signed AMD callback", async () => {
    const { emu, rx, client, place } = await setup({
      ringAfterMs: 10,
      answerAfterMs: 20,
      amdDelayMs: 60,
      jitterMs: 0,
    });
    const call = await place();
    await emu.idle();
    await client.updateCall(call.sid, { status: "completed" });
    await emu.idle();
    const summary = rx.got.map((g) => `${g.path}:${g.params.CallStatus ?? g.params.AnsweredBy}`);
    expect(summary).toEqual([
      "/twilio/status:initiated",
      "/twilio/status:ringing",
      "/twilio/status:in-progress",
      "/twilio/amd:human",
      "/twilio/status:completed",
    ]);
    const statuses = rx.got.filter((g) => g.path === "/twilio/status");
    expect(statuses.map((g) => g.params.SequenceNumber)).toEqual(["0", "1", "2", "3"]);
    for (const g of statuses) {
      expect(g.params).toMatchObject({ CallSid: call.sid, CallbackSource: "call-progress-events" });
      expect(g.params.Timestamp).toMatch(
        /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
      );
    }
    expect(statuses.at(-1)?.params.CallDuration).toMatch(/^\d+$/);
    expect(statuses[0]?.params.CallDuration).toBeUndefined();
    const amd = rx.got.find((g) => g.path === "/twilio/amd");
    expect(amd?.params).toEqual({
      AccountSid: emu.accountSid,
      CallSid: call.sid,
      AnsweredBy: "human",
      MachineDetectionDuration: "60",
    });
    // Our routes' own signature check and schemas accept every one of them.
    for (const g of statuses) await expect(parseAsApp(emu, g, StatusParams)).resolves.toBeTruthy();
    if (amd) await expect(parseAsApp(emu, amd, AmdParams)).resolves.toMatchObject({ AnsweredBy: "human" });
  });

  it("uses the per-number AMD result and sends no AMD callback without AsyncAmd", async () => {
    const { emu, rx, client } = await setup({
      ringAfterMs: 0,
      answerAfterMs: 0,
      amdDelayMs: 0,
      jitterMs: 0,
      byNumber: { "+447700900555": { answeredBy: "machine_end_beep" } },
    });
    await client.createCall({
      to: "+447700900555",
      from: "+442079460000",
      url: `${rx.base}/twilio/voice`,
      amd: { mode: "DetectMessageEnd", async: true, asyncStatusCallback: `${rx.base}/twilio/amd` },
    });
    await client.createCall({
      to: "+447700900556",
      from: "+442079460000",
      url: `${rx.base}/twilio/voice`,
      amd: { mode: "DetectMessageEnd", async: false },
    });
    await emu.idle();
    expect(rx.got.map((g) => g.params.AnsweredBy)).toEqual(["machine_end_beep"]);
  });

  it("delivers jittered callbacks out of SequenceNumber order, and repeats a webhook with the same idempotency token", async () => {
    const { emu, rx, place } = await setup({
      ringAfterMs: 0,
      answerAfterMs: 0,
      amdDelayMs: 0,
      jitterMs: 120,
      duplicates: true,
      seed: "reorder",
    });
    let reordered = false;
    for (let i = 0; i < 8 && !reordered; i++) {
      rx.got.length = 0;
      await place();
      await emu.idle();
      const seqs = rx.got
        .filter((g) => g.path === "/twilio/status")
        .map((g) => Number(g.params.SequenceNumber));
      reordered = seqs.some((s, k) => k > 0 && s < (seqs[k - 1] ?? 0));
    }
    expect(reordered).toBe(true);
    const tokens = rx.got.map((g) => g.token);
    expect(tokens.every((t) => t !== undefined && tokens.filter((u) => u === t).length === 2)).toBe(true);
  });

  it("stays still in manual mode until driven, and can be switched over the control API", async () => {
    const { emu, rx, place } = await setup({ mode: "manual" });
    await place();
    await new Promise((r) => setTimeout(r, 50));
    await emu.idle();
    expect(rx.got).toEqual([]);
    const res = await fetch(`${emu.url}/__emulator/lifecycle`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "auto", ringAfterMs: 0, answerAfterMs: 0, amdDelayMs: 5, jitterMs: 0 }),
    });
    expect(((await res.json()) as { mode: string }).mode).toBe("auto");
    await place();
    await emu.idle();
    // Callbacks fired at the same moment race over HTTP; Twilio's SequenceNumber gives their order.
    const order = (g: (typeof rx.got)[number]) => Number(g.params.SequenceNumber ?? Number.MAX_SAFE_INTEGER);
    expect(
      [...rx.got].sort((a, b) => order(a) - order(b)).map((g) => g.params.CallStatus ?? g.params.AnsweredBy),
    ).toEqual(["initiated", "ringing", "in-progress", "human"]);
  });
});
