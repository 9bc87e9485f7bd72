import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { bytesToBase64 } from "../../../src/audio/mulaw";
import { validateTwilioSignature } from "../../../src/integrations/twilio-signature";
import { simulateCall } from "../../../src/tooling/simulator/node-call";
import { formatReport } from "../../../src/tooling/simulator/report";
import { parseCallScript } from "../../../src/tooling/simulator/script";

const TOKEN = "test-auth-token";
const ADMIN_TOKEN = "test-admin-token";

/** A stand-in app that checks Twilio's signatures exactly as the Worker does and speaks on cue. */
function fakeApp() {
  const seen = {
    scripts: [] as unknown[],
    registered: [] as unknown[],
    statuses: [] as Record<string, string>[],
    callerFrames: 0,
    dtmf: [] as string[],
    params: {} as Record<string, string>,
  };
  let origin = "";
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += String(d);
    });
    req.on("end", async () => {
      const url = `${origin}${req.url ?? ""}`;
      if (req.url === "/__emulator/scripts") {
        seen.scripts.push(JSON.parse(body));
        res.end("{}");
        return;
      }
      if (req.url === "/__emulator/calls") {
        seen.registered.push(JSON.parse(body));
        res.writeHead(201).end("{}");
        return;
      }
      const events = /^\/admin\/calls\/(CA[0-9a-f]{32})\/events$/.exec(req.url ?? "");
      if (events) {
        if (req.headers.authorization !== `Bearer ${ADMIN_TOKEN}`) {
          res.writeHead(401).end("{}");
          return;
        }
        // The call's audit events as the app's admin route returns them: the lines the engine started.
        const line = (seq: number, utteranceId: string, text: string) => ({
          seq,
          type: "agent.line",
          atMs: seq,
          payload: { utteranceId, state: "greeting", text },
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            callSid: events[1],
            events: [line(3, "u1", "Hi, is that Jo?"), line(5, "u2", "Thanks, you pressed one.")],
          }),
        );
        return;
      }
      const params = Object.fromEntries(new URLSearchParams(body));
      const ok = await validateTwilioSignature({
        authToken: TOKEN,
        url,
        params,
        signature: String(req.headers["x-twilio-signature"] ?? ""),
      });
      if (!ok) {
        res.writeHead(403).end("bad signature");
        return;
      }
      if (req.url?.startsWith("/twilio/voice")) {
        const host = new URL(origin).host;
        res.writeHead(200, { "content-type": "text/xml" });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://${host}/media/${params.CallSid}"><Parameter name="token" value="a&amp;b"/></Stream></Connect><Redirect>${origin}/twilio/voice</Redirect></Response>`,
        );
      } else {
        seen.statuses.push(params);
        res.writeHead(204).end();
      }
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", async (req, socket, head) => {
    const wssUrl = `wss://${new URL(origin).host}${req.url ?? ""}`;
    const ok = await validateTwilioSignature({
      authToken: TOKEN,
      url: wssUrl,
      params: {},
      signature: String(req.headers["x-twilio-signature"] ?? ""),
    });
    if (!ok) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const speak = (id: string) => {
        ws.send(JSON.stringify({ event: "media", media: { payload: bytesToBase64(new Uint8Array(1600)) } }));
        ws.send(JSON.stringify({ event: "mark", mark: { name: `${id}:0` } }));
      };
      ws.on("message", (data) => {
        const m = JSON.parse(String(data)) as {
          event: string;
          start?: { customParameters: Record<string, string> };
          dtmf?: { digit: string };
        };
        if (m.event === "start") {
          seen.params = m.start?.customParameters ?? {};
          speak("u1");
        } else if (m.event === "media") seen.callerFrames++;
        else if (m.event === "dtmf") {
          seen.dtmf.push(m.dtmf?.digit ?? "");
          setTimeout(() => {
            speak("u2");
            setTimeout(() => ws.close(1000, "call ended"), 400);
          }, 50);
        }
      });
    });
  });
  return {
    seen,
    start: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => {
          origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
          resolve(origin);
        }),
      ),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("simulateCall (Node, real sockets)", () => {
  const app = fakeApp();
  let origin = "";
  beforeAll(async () => {
    origin = await app.start();
  });
  afterAll(async () => app.close());

  it("places a signed call, opens the stream with the wss signature over ws://, and reports what it observed", async () => {
    const script = parseCallScript({
      flow: "outbound-booking",
      vars: { first_name: "Jo" },
      turns: [{ say: "yes that's me", dtmf: "1", trailingSilenceMs: 100 }],
    });
    const report = await simulateCall({
      target: {
        baseUrl: origin,
        authToken: TOKEN,
        accountSid: `AC${"0".repeat(32)}`,
        deepgramEmulatorUrl: origin,
        twilioEmulatorUrl: origin,
      },
      script,
      fixtureDirs: [],
      conversation: { agentSettleMs: 50, endWaitMs: 3_000 },
    });
    expect(app.seen.scripts).toEqual([{ tag: report.callSid, utterances: ["yes that's me"] }]);
    expect(app.seen.registered).toEqual([{ sid: report.callSid, from: script.from, to: script.to }]);
    expect(app.seen.params).toEqual({ token: "a&b" });
    expect(app.seen.dtmf).toEqual(["1"]);
    // 13 characters of speech-like audio (65 ms each) plus 100 ms of silence, in 20 ms frames.
    expect(app.seen.callerFrames).toBeGreaterThanOrEqual(47);
    expect(report.agentLines.map((l) => [l.utteranceId, l.audioMs, l.marksEchoed])).toEqual([
      ["u1", 200, 1],
      ["u2", 200, 1],
    ]);
    expect(report.turns[0]?.latencyMs).toBeGreaterThanOrEqual(40);
    expect(report.closed?.code).toBe(1000);
    expect(app.seen.statuses.at(-1)).toMatchObject({ CallSid: report.callSid, CallStatus: "completed" });
    expect(formatReport(report)).toContain("AGENT  u2: 200 ms audio in 1 chunks, 1 marks echoed");
    expect(formatReport(report)).toContain("note: agent words not shown: no admin token");
  });

  it("prints the agent's words read from the call's events with the admin token", async () => {
    const script = parseCallScript({
      flow: "outbound-booking",
      turns: [{ say: "yes that's me", dtmf: "1", trailingSilenceMs: 100 }],
    });
    const report = await simulateCall({
      target: {
        baseUrl: origin,
        authToken: TOKEN,
        accountSid: `AC${"0".repeat(32)}`,
        deepgramEmulatorUrl: origin,
        twilioEmulatorUrl: origin,
        adminToken: ADMIN_TOKEN,
      },
      script,
      fixtureDirs: [],
      conversation: { agentSettleMs: 50, endWaitMs: 3_000 },
    });
    expect(report.agentLines.map((l) => l.words)).toEqual(["Hi, is that Jo?", "Thanks, you pressed one."]);
    const text = formatReport(report);
    expect(text).toContain('AGENT  u1: "Hi, is that Jo?" (200 ms audio in 1 chunks, 1 marks echoed)');
    expect(text).toContain('CALLER "yes that\'s me"');
    expect(text).not.toContain("note:");
  });

  it("refuses a deployed target for a spoken turn without a recorded fixture", async () => {
    const script = parseCallScript({ flow: "outbound-booking", turns: [{ say: "hello" }] });
    await expect(
      simulateCall({
        target: {
          baseUrl: origin,
          authToken: TOKEN,
          accountSid: `AC${"0".repeat(32)}`,
          deepgramEmulatorUrl: null,
        },
        script,
        fixtureDirs: [],
      }),
    ).rejects.toThrow(/needs recorded speech/);
  });
});
