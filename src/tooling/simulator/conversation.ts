/**
 * Drives the caller's side of a call through a {@link MediaPeer}: for each scripted turn, wait for
 * the agent (or barge in), stay silent, speak, key DTMF, trigger AMD, hang up (scheduled AMD
 * callbacks fire alongside, see amd-timing.ts); and measure each
 * turn's latency (caller's last speech frame to the agent's first audio after it). Runs in Node
 * and workerd.
 */
import { type AmdDelivery, AmdScheduler, seededRandom } from "./amd-timing";
import { buildTurnAudio } from "./caller-audio";
import type { MediaPeer } from "./media-peer";
import type { AmdSchedule, CallerTurn } from "./script";

/** What the runner needs from its surroundings. */
export interface ConversationHooks {
  /** Recorded speech by fixture name. */
  fixture(name: string): Uint8Array;
  /** Post Twilio's AMD callback. */
  amd(answeredBy: string): Promise<void>;
  /** Called before each turn once the agent wait is over (tests wait for a flow state here). */
  beforeTurn?(turn: CallerTurn, index: number): Promise<void>;
}

/** Timing knobs. */
export interface ConversationOptions {
  /** Agent audio counts as finished after this long with nothing new arriving. */
  agentSettleMs: number;
  /** Give up waiting for the agent after this long (the turn goes ahead, noted). */
  agentWaitTimeoutMs: number;
  /** After the last turn, wait this long for the call to end. */
  endWaitMs: number;
  /** Speech-like audio is synthesised for `say` when no fixture is named (local targets only). */
  synthesizeSpeech: boolean;
  /** Call-level AMD callbacks, fired concurrently from answer or the agent's first audio. */
  amdAt?: readonly AmdSchedule[];
  /** Seed for the realistic AMD delays (same seed, same delays). */
  seed?: string;
  /** Receives what happened to each scheduled AMD callback once the call is over. */
  onAmdDeliveries?: (deliveries: AmdDelivery[]) => void;
}

/** One turn as it went. */
export interface TurnRecord {
  index: number;
  say: string | null;
  fixture: string | null;
  dtmf: string | null;
  amd: string | null;
  hangup: boolean;
  /** Waited for the agent this long before the turn (null = did not wait). */
  waitedMs: number | null;
  agentSilent: boolean;
  startedAtMs: number;
  speechStartAtMs: number | null;
  speechEndAtMs: number | null;
  speechMs: number;
  /** First agent audio after the caller's last speech frame (or keypress), and the gap. */
  agentReplyAtMs: number | null;
  latencyMs: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until the agent has said something since `sinceMs`, it has all played, and nothing new came for `settleMs`. */
export async function waitForAgent(
  peer: MediaPeer,
  sinceMs: number,
  options: Pick<ConversationOptions, "agentSettleMs" | "agentWaitTimeoutMs">,
): Promise<boolean> {
  const deadline = Date.now() + options.agentWaitTimeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || peer.closed) return false;
    const spoke = await peer.waitFor(
      () => peer.closed !== null || (peer.lastAgentMediaAt > sinceMs && !peer.agentPlaying),
      left,
    );
    if (!spoke || peer.closed) return spoke && peer.lastAgentMediaAt > sinceMs;
    const last = peer.lastAgentMediaAt;
    await sleep(options.agentSettleMs);
    if (peer.lastAgentMediaAt === last && !peer.agentPlaying) return true;
  }
}

/** Run the turns; returns one record per turn. Latencies are filled in once the call is over. */
export async function runConversation(
  peer: MediaPeer,
  turns: readonly CallerTurn[],
  hooks: ConversationHooks,
  options: ConversationOptions,
): Promise<TurnRecord[]> {
  const records: TurnRecord[] = [];
  let lastTurnEndAt = peer.startedAtMs - 1;
  const amd = new AmdScheduler(peer, hooks.amd, seededRandom(options.seed ?? "amd"));
  for (const a of options.amdAt ?? []) {
    const anchor = a.from ?? "answer";
    amd.start(a, anchor, anchor === "answer" ? peer.startedAtMs : peer.startedAtMs - 1);
  }
  for (const [index, turn] of turns.entries()) {
    if (peer.closed) break;
    const rec: TurnRecord = {
      index,
      say: turn.say ?? null,
      fixture: turn.fixture ?? null,
      dtmf: turn.dtmf ?? null,
      amd: turn.amd === undefined ? null : typeof turn.amd === "string" ? turn.amd : turn.amd.answeredBy,
      hangup: turn.hangup === true,
      waitedMs: null,
      agentSilent: false,
      startedAtMs: Date.now(),
      speechStartAtMs: null,
      speechEndAtMs: null,
      speechMs: 0,
      agentReplyAtMs: null,
      latencyMs: null,
    };
    records.push(rec);
    if (turn.bargeInAfterMs !== undefined) {
      const since = lastTurnEndAt;
      const started = await peer.waitFor(
        () => peer.closed !== null || peer.chunks.some((c) => c.firstMediaAtMs > since),
        options.agentWaitTimeoutMs,
      );
      rec.agentSilent = !started;
      await sleep(turn.bargeInAfterMs);
    } else if (turn.waitForAgent) {
      const t0 = Date.now();
      rec.agentSilent = !(await waitForAgent(peer, lastTurnEndAt, options));
      rec.waitedMs = Date.now() - t0;
    }
    if (peer.closed) break;
    await hooks.beforeTurn?.(turn, index);
    rec.startedAtMs = Date.now();
    const scheduled = typeof turn.amd === "object" ? turn.amd : undefined;
    const scheduledFrom = scheduled?.from ?? "turnStart";
    if (scheduled && (scheduledFrom === "turnStart" || scheduledFrom === "answer")) {
      amd.start(scheduled, scheduledFrom, scheduledFrom === "answer" ? peer.startedAtMs : rec.startedAtMs);
    }
    if (scheduled && scheduledFrom === "agentAudio") amd.start(scheduled, "agentAudio", lastTurnEndAt);
    if (turn.silenceMs !== undefined) {
      peer.note({ kind: "caller_silence", atMs: Date.now(), durationMs: turn.silenceMs });
      await sleep(turn.silenceMs);
    }
    const spoken = turn.fixture !== undefined || (turn.say !== undefined && options.synthesizeSpeech);
    if (turn.say !== undefined && !spoken) {
      throw new Error(`turn ${index + 1}: "say" needs a recorded fixture against a deployed app`);
    }
    if (spoken && !peer.closed) {
      const { audio, speechBytes } = buildTurnAudio({
        ...(turn.fixture !== undefined ? { fixture: hooks.fixture(turn.fixture) } : {}),
        ...(turn.say !== undefined ? { text: turn.say } : {}),
        trailingSilenceMs: turn.trailingSilenceMs ?? 1_200,
        ...(turn.noiseSnrDb !== undefined ? { noiseSnrDb: turn.noiseSnrDb, seed: index + 1 } : {}),
      });
      const speechFrames = Math.ceil(speechBytes / 160);
      rec.speechStartAtMs = Date.now();
      const speechDone = peer.sendAudio(audio.subarray(0, speechFrames * 160));
      const tailDone = peer.sendAudio(audio.subarray(speechFrames * 160));
      await speechDone;
      rec.speechEndAtMs = Date.now();
      rec.speechMs = speechFrames * 20;
      peer.note({
        kind: "caller_speech",
        atMs: rec.speechStartAtMs,
        endAtMs: rec.speechEndAtMs,
        text: turn.say ?? `[${turn.fixture ?? "speech"}]`,
      });
      if (turn.dtmf !== undefined) for (const d of turn.dtmf) peer.dtmf(d);
      await tailDone;
    } else if (turn.dtmf !== undefined) {
      for (const d of turn.dtmf) peer.dtmf(d);
      rec.speechEndAtMs = Date.now();
    }
    if (scheduled && (scheduledFrom === "speechEnd" || scheduledFrom === "agentReply")) {
      amd.start(scheduled, scheduledFrom, rec.speechEndAtMs ?? Date.now());
    }
    if (typeof turn.amd === "string") {
      peer.note({ kind: "amd", atMs: Date.now(), answeredBy: turn.amd });
      await hooks.amd(turn.amd);
    }
    if (turn.hangup === true) peer.hangup();
    // The agent may answer while trailing silence is still streaming: its reply counts from the speech end.
    lastTurnEndAt = rec.speechEndAtMs ?? Date.now();
  }
  await amd.settle();
  options.onAmdDeliveries?.(amd.deliveries);
  if (!peer.closed) await peer.waitFor(() => peer.closed !== null, options.endWaitMs);
  fillLatencies(peer, records);
  return records;
}

/** Latency of each turn: first new agent line after the caller's last frame (before the caller speaks again). */
export function fillLatencies(peer: MediaPeer, records: TurnRecord[]): void {
  for (const [i, rec] of records.entries()) {
    const end = rec.speechEndAtMs;
    if (end === null) continue;
    const next = records[i + 1];
    const nextStart = next?.speechStartAtMs ?? next?.speechEndAtMs ?? Number.POSITIVE_INFINITY;
    // A line already under way when the caller stopped is not the reply.
    const earlier = new Set(peer.chunks.filter((c) => c.firstMediaAtMs < end).map((c) => c.utteranceId));
    const reply = peer.chunks.find(
      (c) => c.firstMediaAtMs >= end && c.firstMediaAtMs < nextStart && !earlier.has(c.utteranceId),
    );
    if (reply) {
      rec.agentReplyAtMs = reply.firstMediaAtMs;
      rec.latencyMs = reply.firstMediaAtMs - end;
    }
  }
}
