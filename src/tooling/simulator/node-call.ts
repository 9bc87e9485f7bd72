/**
 * The call simulator's Node shell: places a call against a running app (local `npm run dev` or a
 * deployed Worker) as Twilio would — signed voice webhook, TwiML, signed media WebSocket (`ws`),
 * real-time 20 ms frames — runs the script's turns and returns what the caller observed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import WebSocket from "ws";
import { fetchAgentWords } from "./agent-words";
import { type ConversationOptions, runConversation } from "./conversation";
import { registerLocalCall } from "./emulator-control";
import { MediaPeer } from "./media-peer";
import { buildReport, type SimulationReport, withAgentWords } from "./report";
import { type CallScript, scriptedUtterances } from "./script";
import {
  answerCall,
  dialableStreamUrl,
  postAmd,
  postCompleted,
  randomCallSid,
  streamSignature,
} from "./twilio-call";

/** Where the app is and how Twilio is authenticated to it. */
export interface SimulationTarget {
  baseUrl: string;
  authToken: string;
  accountSid: string;
  /** Local stack: the Deepgram emulator recognises each turn's `say` text; speech may be synthetic. */
  deepgramEmulatorUrl: string | null;
  /** The local Twilio emulator: told about each simulated call so the app's hang-up finds it. */
  twilioEmulatorUrl?: string | null;
  /** The app's ADMIN_TOKEN: reads the call's events for the agent's words (without it, audio only). */
  adminToken?: string | null;
}

/** Simulation settings. */
export interface SimulationOptions {
  target: SimulationTarget;
  script: CallScript;
  /** Directories searched for `<fixture>.ulaw` (raw 8 kHz µ-law). */
  fixtureDirs: string[];
  callSid?: string;
  /** 1 = real time (default). */
  playbackSpeed?: number;
  framesPerTick?: number;
  conversation?: Partial<ConversationOptions>;
  log?: (line: string) => void;
}

async function loadFixtures(script: CallScript, dirs: string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const name of new Set(script.turns.flatMap((t) => (t.fixture ? [t.fixture] : [])))) {
    let found: Uint8Array | undefined;
    for (const dir of dirs) {
      try {
        found = new Uint8Array(await readFile(join(dir, `${name}.ulaw`)));
        break;
      } catch {
        // try the next directory
      }
    }
    if (!found) throw new Error(`fixture ${name}.ulaw not found in ${dirs.join(", ")}`);
    out.set(name, found);
  }
  return out;
}

function openSocket(url: string, signature: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { "x-twilio-signature": signature },
      perMessageDeflate: false, // as Twilio's media client: no compression
    });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`media upgrade answered ${res.statusCode ?? "?"}`));
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

/** Place one simulated call and return the report. */
export async function simulateCall(options: SimulationOptions): Promise<SimulationReport> {
  const { target, script } = options;
  const log = options.log ?? (() => undefined);
  const callSid = options.callSid ?? randomCallSid();
  const local = target.deepgramEmulatorUrl !== null;
  const fixtures = await loadFixtures(script, options.fixtureDirs);
  if (!local) {
    const missing = script.turns.findIndex((t) => t.say !== undefined && t.fixture === undefined);
    if (missing >= 0) {
      throw new Error(
        `turn ${missing + 1} has no fixture: a deployed app needs recorded speech for every spoken turn`,
      );
    }
  }
  await registerLocalCall(
    { deepgram: target.deepgramEmulatorUrl, twilio: target.twilioEmulatorUrl },
    { sid: callSid, from: script.from, to: script.to, utterances: scriptedUtterances(script.turns) },
  );
  const direction = script.direction ?? (script.flow.startsWith("inbound") ? "inbound" : "outbound-api");
  log(`placing ${callSid} (${direction}) on ${target.baseUrl}`);
  const stream = await answerCall(fetch, {
    baseUrl: target.baseUrl,
    authToken: target.authToken,
    accountSid: target.accountSid,
    callSid,
    flow: script.flow,
    vars: script.vars,
    from: script.from,
    to: script.to,
    direction,
    ...(script.campaign ? { campaign: script.campaign } : {}),
  });
  const ws = await openSocket(
    dialableStreamUrl(stream.url, target.baseUrl),
    await streamSignature(target.authToken, stream.url),
  );
  const playbackSpeed = options.playbackSpeed ?? 1;
  const peer = new MediaPeer(
    { send: (t) => ws.send(t), close: (c, r) => ws.close(c, r) },
    {
      callSid,
      accountSid: target.accountSid,
      playbackSpeed,
      framesPerTick: options.framesPerTick ?? 1,
      idleFill: (options.framesPerTick ?? 1) === 1,
    },
  );
  ws.on("message", (data) => peer.receive(data.toString()));
  ws.on("close", (code, reason) => peer.onClose(code, reason.toString()));
  peer.start(stream.parameters);
  try {
    const turns = await runConversation(
      peer,
      script.turns,
      {
        fixture: (name) => {
          const f = fixtures.get(name);
          if (!f) throw new Error(`fixture ${name} not loaded`);
          return f;
        },
        amd: (answeredBy) =>
          postAmd(fetch, target.baseUrl, target.authToken, callSid, target.accountSid, answeredBy),
      },
      {
        agentSettleMs: 700 / playbackSpeed + 150,
        agentWaitTimeoutMs: 20_000,
        endWaitMs: 20_000,
        synthesizeSpeech: local,
        amdAt: script.amdAt,
        seed: callSid,
        ...options.conversation,
      },
    );
    const report = buildReport(peer, turns, { callSid, flow: script.flow, target: target.baseUrl });
    const words = await fetchAgentWords(fetch, {
      baseUrl: target.baseUrl,
      adminToken: target.adminToken,
      callSid,
      expectIds: report.agentLines.map((l) => l.utteranceId),
    });
    if (words.words === null) log(`agent words not shown: ${words.note}`);
    return withAgentWords(report, words);
  } finally {
    peer.dispose();
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, "simulation done");
    await postCompleted(
      fetch,
      target.baseUrl,
      target.authToken,
      callSid,
      target.accountSid,
      Date.now() - peer.startedAtMs,
    ).catch(() => undefined);
  }
}
