/** Barge-in decision while the agent is speaking: confirmed caller speech that is longer than a backchannel. */

import type { VadSnapshot } from "./vad";
import type { VadSettings } from "./vad-config";

/** The caller interrupted the agent: send `clear`, abort TTS/LLM, keep only what was heard. */
export interface BargeInDecision {
  type: "barge_in";
  /** Media time the caller's speech began (VAD onset). */
  onsetMs: number;
  /** Media time of the decision (end of the frame that tipped it). */
  atMs: number;
  /** Milliseconds of caller audio between speech onset and the decision. */
  reactionMs: number;
}

/** Per-call barge-in detector, fed once per inbound frame after the VAD. */
export interface BargeInDetector {
  /**
   * @param vad the VAD's snapshot after this frame
   * @param frameEndMs media time at the end of this frame
   * @param agentSpeaking whether agent audio is playing (see `PlaybackTracker.isPlaying`)
   */
  update(vad: VadSnapshot, frameEndMs: number, agentSpeaking: boolean): BargeInDecision | null;
  /** Ms after speech onset before a voiced frame can decide a barge-in. */
  readonly thresholdMs: number;
}

/**
 * Creates a barge-in detector. A decision needs barge-in enabled, agent audio playing, VAD-confirmed
 * speech, and a voiced frame more than `max(minSpeechMs, backchannelMaxMs)` after the onset: "mm-hm" and
 * "yeah" are over by then, so they let the agent finish. At most one decision per speech run.
 */
export function createBargeInDetector(
  settings: Pick<VadSettings, "bargeIn" | "minSpeechMs" | "backchannelMaxMs">,
): BargeInDetector {
  const thresholdMs = Math.max(settings.minSpeechMs, settings.backchannelMaxMs);
  let decidedOnsetMs: number | null = null;
  return {
    thresholdMs,
    update(vad, frameEndMs, agentSpeaking) {
      if (vad.onsetMs === null) {
        decidedOnsetMs = null;
        return null;
      }
      if (!settings.bargeIn || !agentSpeaking || !vad.speaking) return null;
      if (decidedOnsetMs === vad.onsetMs) return null;
      // A backchannel is over before the threshold: only speech still going on past it interrupts. Elapsed
      // time (not voiced time) so that pauses between words do not delay the decision.
      if (!vad.frameIsSpeech || frameEndMs - vad.onsetMs <= thresholdMs) return null;
      decidedOnsetMs = vad.onsetMs;
      return {
        type: "barge_in",
        onsetMs: vad.onsetMs,
        atMs: frameEndMs,
        reactionMs: frameEndMs - vad.onsetMs,
      };
    },
  };
}
