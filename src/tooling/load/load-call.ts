/**
 * One load-test call, the Node shell: the simulator's Twilio side (signed webhook, TwiML, signed
 * media WebSocket, real-time 20 ms frames, marks echoed) with every agent message timestamped as
 * it arrives, so the load report can examine outbound frame pacing.
 */
import WebSocket from "ws";
import { runConversation } from "../simulator/conversation";
import { registerLocalCall } from "../simulator/emulator-control";
import { MediaPeer } from "../simulator/media-peer";
import { type CallScript, scriptedUtterances } from "../simulator/script";
import {
  answerCall,
  dialableStreamUrl,
  postAmd,
  postCompleted,
  randomCallSid,
  streamSignature,
} from "../simulator/twilio-call";
import { type AgentMessage, type FinalSent, type TurnTimes, turnTimes } from "./stats";

/** Where the local stack is. */
export interface LoadTarget {
  baseUrl: string;
  authToken: string;
  accountSid: string;
  deepgramEmulatorUrl: string;
  /** The local Twilio emulator, told about each call so the app's hang-up finds it. */
  twilioEmulatorUrl?: string;
}

/** What one call produced. */
export interface LoadCallResult {
  callSid: string;
  ok: boolean;
  error: string | null;
  durationMs: number;
  /** Per scripted turn: caller's last speech frame → agent's first media frame (null = no reply). */
  turnLatenciesMs: (number | null)[];
  /** Per scripted turn: when that final left and when the reply's first audio arrived (null = unknown). */
  turnTimes: (TurnTimes | null)[];
  agentMessages: AgentMessage[];
  closedCode: number | null;
}

function openSocket(url: string, signature: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { "x-twilio-signature": signature },
      handshakeTimeout: timeoutMs,
      // Twilio's media client does not offer permessage-deflate; compressing every 20 ms frame would
      // charge the Worker CPU a real call never costs.
      perMessageDeflate: false,
    });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      reject(new Error(`media upgrade answered ${res.statusCode ?? "?"}`));
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

function mediaBytes(b64: string): number {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((b64.length * 3) / 4) - padding;
}

/** When the STT emulator sent each final for this call (its `tag` is the call SID). */
async function emittedFinals(deepgramUrl: string, callSid: string): Promise<FinalSent[]> {
  const url = new URL("/__emulator/finals", deepgramUrl);
  url.searchParams.set("tag", callSid);
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`finals: ${res.status}`);
  return ((await res.json()) as { finals: FinalSent[] }).finals;
}

/** Place one call with speech synthesised from the script's `say` text (local stack only). */
export async function runLoadCall(
  target: LoadTarget,
  script: CallScript,
  options: { callTimeoutMs: number },
): Promise<LoadCallResult> {
  const callSid = randomCallSid();
  const agentMessages: AgentMessage[] = [];
  const startedAt = Date.now();
  let peer: MediaPeer | null = null;
  let ws: WebSocket | null = null;
  const result = (
    ok: boolean,
    error: string | null,
    latencies: (number | null)[],
    times: (TurnTimes | null)[] = [],
  ): LoadCallResult => ({
    callSid,
    ok,
    error,
    durationMs: Date.now() - (peer?.startedAtMs ?? startedAt),
    turnLatenciesMs: latencies,
    turnTimes: times,
    agentMessages,
    closedCode: peer?.closed?.code ?? null,
  });
  try {
    await registerLocalCall(
      { deepgram: target.deepgramEmulatorUrl, twilio: target.twilioEmulatorUrl },
      { sid: callSid, from: script.from, to: script.to, utterances: scriptedUtterances(script.turns) },
    );
    const stream = await answerCall(fetch, {
      baseUrl: target.baseUrl,
      authToken: target.authToken,
      accountSid: target.accountSid,
      callSid,
      flow: script.flow,
      vars: script.vars,
      from: script.from,
      to: script.to,
      direction: script.direction ?? "outbound-api",
      ...(script.campaign ? { campaign: script.campaign } : {}),
    });
    const socket = await openSocket(
      dialableStreamUrl(stream.url, target.baseUrl),
      await streamSignature(target.authToken, stream.url),
      10_000,
    );
    ws = socket;
    const p = new MediaPeer(
      { send: (t) => socket.send(t), close: (c, r) => socket.close(c, r) },
      { callSid, accountSid: target.accountSid, playbackSpeed: 1, framesPerTick: 1, idleFill: true },
    );
    peer = p;
    socket.on("message", (data) => {
      const text = data.toString();
      const atMs = Date.now();
      try {
        const msg = JSON.parse(text) as {
          event?: string;
          media?: { payload?: string };
          mark?: { name?: string };
        };
        if (msg.event === "media" && typeof msg.media?.payload === "string") {
          agentMessages.push({ kind: "media", atMs, bytes: mediaBytes(msg.media.payload) });
        } else if (msg.event === "mark" && typeof msg.mark?.name === "string") {
          agentMessages.push({ kind: "mark", atMs, name: msg.mark.name });
        } else if (msg.event === "clear") {
          agentMessages.push({ kind: "clear", atMs });
        }
      } catch {
        // the peer ignores what is not JSON too
      }
      p.receive(text);
    });
    socket.on("close", (code, reason) => p.onClose(code, reason.toString()));
    p.start(stream.parameters);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`call over ${options.callTimeoutMs} ms`)),
        options.callTimeoutMs,
      );
    });
    try {
      const turns = await Promise.race([
        runConversation(
          p,
          script.turns,
          {
            fixture: () => {
              throw new Error("load calls use synthetic speech; remove fixtures from the script");
            },
            amd: (answeredBy) =>
              postAmd(fetch, target.baseUrl, target.authToken, callSid, target.accountSid, answeredBy),
          },
          { agentSettleMs: 850, agentWaitTimeoutMs: 20_000, endWaitMs: 20_000, synthesizeSpeech: true },
        ),
        timeout,
      ]);
      const latencies = turns.map((t) => t.latencyMs);
      const spoken = turns.filter((t) => t.speechEndAtMs !== null);
      const missing = spoken.filter((t) => t.latencyMs === null).length;
      const complete = turns.length === script.turns.length && missing === 0;
      const finals = await emittedFinals(target.deepgramEmulatorUrl, callSid).catch(() => []);
      return result(
        complete,
        complete
          ? null
          : `${missing} turn(s) without an agent reply, ${turns.length}/${script.turns.length} turns run`,
        latencies,
        turnTimes(turns, finals),
      );
    } finally {
      clearTimeout(timer);
    }
  } catch (err) {
    return result(false, err instanceof Error ? err.message : String(err), []);
  } finally {
    peer?.dispose();
    if (ws?.readyState === WebSocket.OPEN) ws.close(1000, "load call done");
    await postCompleted(
      fetch,
      target.baseUrl,
      target.authToken,
      callSid,
      target.accountSid,
      Date.now() - startedAt,
    ).catch(() => undefined);
  }
}
