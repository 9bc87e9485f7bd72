/**
 * Twilio's asynchronous AMD callback as it really arrives: concurrently with the conversation, at a
 * delay measured from the call's answer, the agent's first audio, or a caller turn, instead of in
 * the caller's turn order. Runs in Node and workerd; the only clock is the media peer's.
 */

import { createRng } from "../../audio/signals";
import type { MediaPeer } from "./media-peer";
import type { AmdAnchor, AmdSchedule } from "./script";

/** Twilio's AMD usually decides 2–5 s after answer (protocols.md §4: speech thresholds ~2.4 s). */
export const REALISTIC_AMD_DELAY_MS = { min: 2_000, max: 5_000 } as const;

/** How long an agent-anchored callback waits for the agent before firing anyway. */
const AGENT_WAIT_MS = 20_000;

/** Deterministic PRNG in [0, 1) from a string seed (FNV-1a into mulberry32), for reproducible delays. */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return createRng(h >>> 0);
}

/** A realistic AMD delay after answer, in ms, drawn from `random`. */
export function realisticAmdDelayMs(random: () => number): number {
  const { min, max } = REALISTIC_AMD_DELAY_MS;
  return Math.round(min + random() * (max - min));
}

/** The delay a schedule asks for: as written, else realistic when counted from answer, else none. */
export function amdDelayMs(schedule: AmdSchedule, anchor: AmdAnchor, random: () => number): number {
  if (schedule.afterMs !== undefined) return schedule.afterMs;
  return anchor === "answer" ? realisticAmdDelayMs(random) : 0;
}

/** What happened to one scheduled AMD callback. */
export interface AmdDelivery {
  answeredBy: string;
  anchor: AmdAnchor;
  delayMs: number;
  /** Wall clock when it was posted; null when the call was over first (Twilio would not send it). */
  sentAtMs: number | null;
  /** The caller's phone was still playing agent audio when the callback went. */
  agentPlaying: boolean;
}

/**
 * Fires AMD callbacks in the background. `start` a schedule once its anchor has happened (the
 * runner knows when a turn starts or its speech ends); `settle` waits for all of them.
 */
export class AmdScheduler {
  private readonly pending: Promise<void>[] = [];
  private readonly errors: unknown[] = [];
  readonly deliveries: AmdDelivery[] = [];

  constructor(
    private readonly peer: MediaPeer,
    private readonly post: (answeredBy: string) => Promise<void>,
    private readonly random: () => number,
  ) {}

  /**
   * Schedule one callback. `sinceMs` is the anchor's wall-clock time, or for `agentAudio` /
   * `agentReply` the time after which the agent's next audio counts.
   */
  start(schedule: AmdSchedule, anchor: AmdAnchor, sinceMs: number): void {
    const delayMs = amdDelayMs(schedule, anchor, this.random);
    const waitsForAgent = anchor === "agentAudio" || anchor === "agentReply";
    const run = async () => {
      const peer = this.peer;
      let from = sinceMs;
      if (waitsForAgent) {
        await peer.waitFor(() => peer.closed !== null || peer.lastAgentMediaAt > sinceMs, AGENT_WAIT_MS);
        from = peer.lastAgentMediaAt > sinceMs ? Date.now() : sinceMs;
      }
      const dueAt = from + delayMs;
      // An interruptible sleep: the call ending cancels the callback.
      await peer.waitFor(() => peer.closed !== null, Math.max(0, dueAt - Date.now()));
      const delivery: AmdDelivery = {
        answeredBy: schedule.answeredBy,
        anchor,
        delayMs,
        sentAtMs: null,
        agentPlaying: peer.agentPlaying,
      };
      this.deliveries.push(delivery);
      if (peer.closed) return;
      delivery.sentAtMs = Date.now();
      peer.note({ kind: "amd", atMs: delivery.sentAtMs, answeredBy: schedule.answeredBy });
      await this.post(schedule.answeredBy);
    };
    this.pending.push(run().catch((err: unknown) => void this.errors.push(err)));
  }

  /** Wait for every scheduled callback; throws the first posting error. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
    if (this.errors.length > 0) throw this.errors[0];
  }
}
