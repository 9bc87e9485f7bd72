/**
 * Starts every outside-service emulator on loopback and reports the environment that points the
 * Worker at them. Used by `npm run dev` and by the workerd test suite's global setup.
 */
import { LOCAL_CREDENTIALS } from "../../config/config";
import { startCalcomEmulator } from "./calcom";
import { startDeepgramEmulator } from "./deepgram";
import { startElevenLabsEmulator } from "./elevenlabs";
import { startHubspotEmulator } from "./hubspot";
import { startOpenAiEmulator } from "./openai";
import { startSlackEmulator } from "./slack";
import { startTurnstileEmulator } from "./turnstile";
import { startTwilioEmulator } from "./twilio";
import type { TwilioLifecycleOptions } from "./twilio-lifecycle";

export interface EmulatorStack {
  urls: Record<
    "twilio" | "deepgram" | "elevenlabs" | "openai" | "calcom" | "hubspot" | "slack" | "turnstile",
    string
  >;
  /** Worker variables that select the emulators (no credentials: local mode). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface EmulatorStackOptions {
  host?: string;
  /** First port; emulators take consecutive ports. Default: ephemeral ports. */
  basePort?: number;
  openaiTtftMs?: number;
  elevenlabsFirstChunkMs?: number;
  deepgramFinalDelayMs?: number;
  calcomLatencyMs?: number;
  /** How calls the Twilio emulator places progress (default: by themselves, Twilio-like timings). */
  twilioLifecycle?: Partial<TwilioLifecycleOptions>;
}

/** Start all emulators. */
export async function startEmulatorStack(options: EmulatorStackOptions = {}): Promise<EmulatorStack> {
  const host = options.host ?? "127.0.0.1";
  const port = (i: number) => (options.basePort === undefined ? 0 : options.basePort + i);
  const L = LOCAL_CREDENTIALS;
  const started = await Promise.all([
    startTwilioEmulator({
      host,
      port: port(0),
      accountSid: L.twilioAccountSid,
      authToken: L.twilioAuthToken,
      ...(options.twilioLifecycle ? { lifecycle: options.twilioLifecycle } : {}),
    }),
    startDeepgramEmulator({
      host,
      port: port(1),
      apiKey: L.deepgram,
      finalDelayMs: options.deepgramFinalDelayMs ?? 0,
    }),
    startElevenLabsEmulator({
      host,
      port: port(2),
      apiKey: L.elevenlabs,
      firstChunkLatencyMs: options.elevenlabsFirstChunkMs ?? 0,
    }),
    startOpenAiEmulator({ host, port: port(3), apiKey: L.openai, ttftMs: options.openaiTtftMs ?? 0 }),
    startCalcomEmulator({ host, port: port(4), apiKey: L.calcom, latencyMs: options.calcomLatencyMs ?? 0 }),
    startHubspotEmulator({ host, port: port(5), accessToken: L.hubspot }),
    startSlackEmulator({
      host,
      port: port(6),
      webhookPath: "/services/T000LOCAL/B000LOCAL/local",
      botToken: L.slack,
    }),
    startTurnstileEmulator({ host, port: port(7) }),
  ]);
  const [twilio, deepgram, elevenlabs, openai, calcom, hubspot, slack, turnstile] = started;
  const urls = {
    twilio: twilio.url,
    deepgram: deepgram.url,
    elevenlabs: elevenlabs.url,
    openai: openai.url,
    calcom: calcom.url,
    hubspot: hubspot.url,
    slack: slack.url,
    turnstile: turnstile.url,
  };
  const env: Record<string, string> = {
    // The explicit choice of local stand-in credentials: only the emulator stack (npm run dev, the
    // tests, the Node harnesses) sets it; a deployed Worker without it fails closed.
    LOCAL_STAND_INS: "true",
    TWILIO_API_BASE_URL: urls.twilio,
    DEEPGRAM_BASE_URL: urls.deepgram.replace(/^http/, "ws"),
    ELEVENLABS_BASE_URL: urls.elevenlabs,
    OPENAI_BASE_URL: `${urls.openai}/v1`,
    CALCOM_BASE_URL: urls.calcom,
    HUBSPOT_BASE_URL: urls.hubspot,
    SLACK_BASE_URL: urls.slack,
    TURNSTILE_BASE_URL: urls.turnstile,
  };
  return {
    urls,
    env,
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
