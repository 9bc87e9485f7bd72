/**
 * A scripted Twilio for workerd tests: places a call through the signed voice webhook, opens the
 * signed media WebSocket, streams caller audio as 20 ms µ-law frames, plays the agent's audio on a
 * simulated clock and echoes marks as Twilio does (a `clear` drops unplayed audio and echoes every
 * pending mark at once).
 */
import { SELF } from "cloudflare:test";
import { inject } from "vitest";
import { bytesToBase64, FRAME_BYTES, MULAW_SILENCE } from "../../src/audio/mulaw";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { computeTwilioSignature } from "../../src/integrations/twilio-signature";
import { registerCall, registerUtterances } from "../../src/tooling/simulator/emulator-control";

export const ORIGIN = "https://agent.example";

/** The URL of one of the emulators the global setup started. */
function emulatorUrl(name: "twilio" | "deepgram"): string {
  const url = inject("emulatorUrls")[name];
  if (!url) throw new Error(`global setup started no ${name} emulator`);
  return url;
}

/** A fresh valid CallSid. */
export function newCallSid(): string {
  const hex = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `CA${hex}`;
}

/** POST a signed form to the Worker as Twilio would. */
export async function signedPost(
  path: string,
  params: Record<string, string>,
  token: string = LOCAL_CREDENTIALS.twilioAuthToken,
) {
  const url = `${ORIGIN}${path}`;
  const signature = await computeTwilioSignature(token, url, params);
  return SELF.fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
    body: new URLSearchParams(params).toString(),
  });
}

export interface ReceivedLine {
  markNames: string[];
  bytes: number;
}

export interface CallOptions {
  callSid?: string;
  from?: string;
  to?: string;
  direction?: string;
  query?: string;
  /** Agent audio plays this many times faster than real time (marks echo accordingly). */
  playbackSpeed?: number;
}

export class TwilioMediaClient {
  readonly events: { event: string; name?: string; atMs: number }[] = [];
  agentBytes = 0;
  clears = 0;
  /** The custom parameters this client's `start` carried (a replay test sends them again). */
  startParameters: Record<string, string> = {};
  closed: { code: number; reason: string } | null = null;
  private seq = 0;
  private mediaMs = 0;
  private playQueue: { mark: string; endsAt: number }[] = [];
  private playheadAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly callSid: string,
    readonly streamSid: string,
    private readonly ws: WebSocket,
    private readonly speed: number,
  ) {
    ws.addEventListener("message", (ev) => this.onMessage(String(ev.data)));
    ws.addEventListener("close", (ev) => {
      this.closed = { code: ev.code, reason: ev.reason };
      this.notify();
    });
  }

  /** Place a call: voice webhook, TwiML, signed upgrade, `connected` + `start`. */
  static async call(options: CallOptions = {}): Promise<TwilioMediaClient> {
    const callSid = options.callSid ?? newCallSid();
    const from = options.from ?? "+447700900123";
    const to = options.to ?? "+442071234567";
    // Twilio knows every call it carries: without this the app's hang-up would find no such call.
    await registerCall(emulatorUrl("twilio"), { sid: callSid, from, to });
    const res = await signedPost(`/twilio/voice${options.query ?? ""}`, {
      CallSid: callSid,
      AccountSid: LOCAL_CREDENTIALS.twilioAccountSid,
      From: from,
      To: to,
      Direction: options.direction ?? "outbound-api",
      CallStatus: "in-progress",
      ApiVersion: "2010-04-01",
    });
    if (res.status !== 200) throw new Error(`voice webhook answered ${res.status}: ${await res.text()}`);
    const twiml = await res.text();
    const streamUrl = /<Stream url="([^"]+)"/.exec(twiml)?.[1]?.replace(/&amp;/g, "&");
    if (!streamUrl) throw new Error(`no <Stream> in TwiML: ${twiml}`);
    const parameters: Record<string, string> = {};
    for (const m of twiml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)) {
      parameters[m[1] ?? ""] = (m[2] ?? "")
        .replace(/&amp;/g, "&")
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&apos;/g, "'");
    }
    const client = await TwilioMediaClient.open(callSid, streamUrl, options.playbackSpeed ?? 20);
    client.start(parameters);
    return client;
  }

  /** Open the media socket with a valid Twilio signature (no `start` yet). */
  static async open(
    callSid: string,
    streamUrl: string,
    speed = 20,
    signatureToken: string = LOCAL_CREDENTIALS.twilioAuthToken,
  ) {
    const signature = await computeTwilioSignature(signatureToken, streamUrl, {});
    const res = await SELF.fetch(streamUrl.replace(/^wss:/, "https:"), {
      headers: { upgrade: "websocket", "x-twilio-signature": signature },
    });
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) throw new Error(`media upgrade answered ${res.status}`);
    ws.accept();
    return new TwilioMediaClient(callSid, `MZ${callSid.slice(2)}`, ws, speed);
  }

  send(frame: Record<string, unknown>): void {
    if (this.closed) return;
    try {
      this.ws.send(JSON.stringify(frame));
    } catch {
      // The agent closed the socket; Twilio drops late frames the same way.
    }
  }

  sendRaw(text: string): void {
    this.ws.send(text);
  }

  start(customParameters: Record<string, string>): void {
    this.startParameters = { ...customParameters };
    this.send({ event: "connected", protocol: "Call", version: "1.0.0" });
    this.send({
      event: "start",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      start: {
        streamSid: this.streamSid,
        accountSid: LOCAL_CREDENTIALS.twilioAccountSid,
        callSid: this.callSid,
        tracks: ["inbound"],
        customParameters,
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    });
  }

  /** Stream caller audio (µ-law) followed by `trailingSilenceMs` of silence, `pace` frames per 20 ms tick. */
  async say(audio: Uint8Array, trailingSilenceMs = 1_200, pace = 8): Promise<void> {
    const silence = new Uint8Array(Math.ceil(trailingSilenceMs / 20) * FRAME_BYTES).fill(MULAW_SILENCE);
    const all = new Uint8Array(audio.length + silence.length);
    all.set(audio);
    all.set(silence, audio.length);
    let n = 0;
    for (let o = 0; o + FRAME_BYTES <= all.length; o += FRAME_BYTES) {
      this.sendFrame(all.subarray(o, o + FRAME_BYTES));
      if (++n % pace === 0) await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Silence for `ms` of media time. */
  async silence(ms: number, pace = 8): Promise<void> {
    await this.say(new Uint8Array(0), ms, pace);
  }

  sendFrame(frame: Uint8Array): void {
    this.send({
      event: "media",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      media: {
        track: "inbound",
        chunk: String(this.seq),
        timestamp: String(this.mediaMs),
        payload: bytesToBase64(frame),
      },
    });
    this.mediaMs += 20;
  }

  dtmf(digit: string): void {
    this.send({
      event: "dtmf",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      dtmf: { track: "inbound_track", digit },
    });
  }

  stop(): void {
    this.send({
      event: "stop",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      stop: { callSid: this.callSid },
    });
  }

  close(): void {
    this.ws.close(1000, "test done");
  }

  /** Number of marks the agent has sent so far. */
  get marksSent(): number {
    return this.events.filter((e) => e.event === "mark").length;
  }

  /** Wait until `predicate` holds (checked on every message) or fail after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Wait until the agent's queued audio has all played (every mark echoed). */
  async waitIdle(timeoutMs = 15_000): Promise<void> {
    await this.waitFor(
      () => this.playQueue.length === 0 && this.marksSent > 0,
      timeoutMs,
      "agent audio to finish",
    );
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
    const now = Date.now();
    if (msg.event === "media" && msg.media) {
      const bytes = Math.floor((msg.media.payload.length * 3) / 4);
      this.agentBytes += bytes;
      this.playheadAt = Math.max(this.playheadAt, now) + bytes / 8 / this.speed;
      this.events.push({ event: "media", atMs: now });
    } else if (msg.event === "mark" && msg.mark) {
      this.events.push({ event: "mark", name: msg.mark.name, atMs: now });
      this.playQueue.push({ mark: msg.mark.name, endsAt: Math.max(this.playheadAt, now) });
      this.schedule();
    } else if (msg.event === "clear") {
      this.clears++;
      this.events.push({ event: "clear", atMs: now });
      const pending = this.playQueue;
      this.playQueue = [];
      this.playheadAt = now;
      for (const p of pending) this.echo(p.mark);
    }
    this.notify();
  }

  private echo(name: string): void {
    this.send({
      event: "mark",
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      mark: { name },
    });
  }

  private schedule(): void {
    if (this.timer) return;
    const next = this.playQueue[0];
    if (!next) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        const now = Date.now();
        while (this.playQueue[0] && this.playQueue[0].endsAt <= now) {
          const p = this.playQueue.shift();
          if (p) this.echo(p.mark);
        }
        this.notify();
        this.schedule();
      },
      Math.max(0, next.endsAt - Date.now()),
    );
  }
}

/** Decode a base64 fixture handed over by the global setup. */
export function fixture(b64: string | undefined): Uint8Array {
  if (!b64) throw new Error("missing fixture");
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Register what the Deepgram emulator will "recognise" for each caller speech segment of this call. */
export async function scriptCaller(callSid: string, utterances: string[]): Promise<void> {
  await registerUtterances(emulatorUrl("deepgram"), callSid, utterances);
}
