/**
 * Voicemail handling that never pitches to a beep: Twilio's asynchronous AMD result and a local
 * tone detector on the caller's audio decide when the short voicemail message may start, which is
 * after the beep and never before. Carrier ringback is recognised and never taken for a person.
 */
import { createToneDetector, type ToneDetector, type ToneEvent } from "../audio";

/** Twilio's `AnsweredBy` values. */
export type AnsweredBy =
  | "human"
  | "machine_start"
  | "machine_end_beep"
  | "machine_end_silence"
  | "machine_end_other"
  | "fax"
  | "unknown";

/** What an AMD answer means for the flow and for the voicemail message. */
export function amdMeaning(answeredBy: string): {
  result: "human" | "machine" | "unknown";
  beepPassed: boolean;
} {
  if (answeredBy === "human") return { result: "human", beepPassed: false };
  if (answeredBy.startsWith("machine_end_")) return { result: "machine", beepPassed: true };
  if (answeredBy === "machine_start" || answeredBy === "fax") return { result: "machine", beepPassed: false };
  return { result: "unknown", beepPassed: false };
}

/** Default longest wait for a beep before the message is left anyway (some mailboxes never beep). */
export const BEEP_WAIT_MS = 8_000;
/** The detector runs for the first part of the call only: voicemail greetings come first. */
export const DETECT_FOR_MS = 45_000;

export type GateEvent = { type: "beep"; freqHz: number; atMs: number } | { type: "ringback"; atMs: number };

/** Runs the tone detector over the opening of a call and reports beeps and ringback. */
export class VoicemailDetector {
  private readonly detector: ToneDetector = createToneDetector();
  private active = true;

  /** Feed one inbound frame; returns what it showed (usually nothing). */
  push(frame: Uint8Array, mediaTimestampMs: number): GateEvent[] {
    if (!this.active) return [];
    if (mediaTimestampMs > DETECT_FOR_MS) {
      this.active = false;
      return [];
    }
    return this.detector.push(frame, mediaTimestampMs).map(toGateEvent);
  }

  /** A person answered: stop spending CPU on tones. */
  stop(): void {
    this.active = false;
  }
}

function toGateEvent(e: ToneEvent): GateEvent {
  return e.type === "beep"
    ? { type: "beep", freqHz: e.freqHz, atMs: e.atMs }
    : { type: "ringback", atMs: e.atMs };
}
