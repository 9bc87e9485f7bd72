/**
 * Whole-call invariants: what must hold for every call, whatever order the outside world delivered
 * its events in. Each check reads only the {@link CallTrace} (what the phone observed, what was
 * persisted, what the providers were asked) and returns violations in words a reviewer can act on.
 */
import { DEFAULT_QA_CONFIG } from "../../../qa/config";
import { assembleTranscript } from "../../../qa/transcript";
import { EVENT_TYPES } from "../../../store/call-event";
import type { CallTrace, TurnEnd } from "./world";

/** A caller's turn must be answered (a line, a step of the flow, or the end of the call) within this. */
export const TURN_BUDGET_MS = 8_000;
/** After max duration: the polite close plays out and the hang-up goes through. */
export const END_GRACE_MS = 25_000;
/** States whose lines are the pitch (the QA scorecard's own list): never before a person is known to be on the line. */
export const PITCH_STATES: ReadonlySet<string> = new Set(
  DEFAULT_QA_CONFIG.pitchStates["outbound-booking"] ?? [],
);
const OPT_OUT_WORDS = "stop calling me";

export interface Violation {
  invariant: string;
  detail: string;
}

const rel = (t: CallTrace, ms: number) => `${((ms - t.startMs) / 1000).toFixed(2).padStart(6)}s`;

function transitions(t: CallTrace): { atMs: number; from: string | undefined; to: string }[] {
  return t.events
    .filter((e) => e.type === EVENT_TYPES.stateTransition)
    .map((e) => ({
      atMs: e.atMs,
      from: typeof e.payload.from === "string" ? e.payload.from : undefined,
      to: String(e.payload.to),
    }));
}

/** The agent did something the caller can notice, in (from, to]. */
function agentActed(t: CallTrace, fromMs: number, toMs: number): boolean {
  const inWindow = (ms: number | null) => ms !== null && ms >= fromMs && ms <= toMs;
  return (
    t.lines.some((l) => inWindow(l.firstFrameAtMs)) ||
    transitions(t).some((x) => inWindow(x.atMs)) ||
    t.hangups.some(inWindow) ||
    t.transfers.some(inWindow)
  );
}

/** Once a question has played, every caller final is answered within the turn budget. */
function neverDeaf(t: CallTrace): Violation[] {
  const out: Violation[] = [];
  for (const turn of t.turnEnds) {
    if (!turn.questionHeard || !turn.active) continue;
    const deadline = turn.atMs + TURN_BUDGET_MS;
    // The caller (or the network) ending the call first leaves nothing to answer.
    if (t.endedAtMs !== null && t.endedAtMs <= deadline && !agentActed(t, turn.atMs, t.endedAtMs)) continue;
    if (!agentActed(t, turn.atMs, deadline))
      out.push({
        invariant: "never deaf",
        detail: `caller said "${turn.text}" at ${rel(t, turn.atMs)} in ${turn.state} after the question played; no line, step or hang-up within ${TURN_BUDGET_MS} ms`,
      });
  }
  return out;
}

/** Lines never interleave; after a barge-in `clear`, nothing plays while the caller is still talking. */
function oneVoice(t: CallTrace): Violation[] {
  const out: Violation[] = t.overlaps.map((o) => ({
    invariant: "never two agent lines at once",
    detail: `audio of ${o.line} resumed at ${rel(t, o.atMs)} after ${o.after} had started`,
  }));
  for (const c of t.clears) {
    // A machine result's clear precedes the voicemail message, which rightly plays over a recorder.
    if (t.amdDelivered.some((a) => Math.abs(a.atMs - c) <= 5 && a.answeredBy !== "human")) continue;
    const talking = t.speech.find((s) => s.startMs <= c && c <= s.endMs);
    if (!talking) continue;
    // A machine result's voicemail message plays over a recorder's greeting by design.
    const machineBefore = (ms: number) =>
      t.amdDelivered.some((a) => a.answeredBy !== "human" && a.answeredBy !== "unknown" && a.atMs <= ms);
    const early = t.lines.find(
      (l) => l.firstFrameAtMs > c && l.firstFrameAtMs < talking.endMs && !machineBefore(l.firstFrameAtMs),
    );
    if (early)
      out.push({
        invariant: "no agent audio after clear until the caller's turn ends",
        detail: `clear at ${rel(t, c)}, caller talking until ${rel(t, talking.endMs)}, yet ${early.utteranceId} "${early.text.slice(0, 40)}" started at ${rel(t, early.firstFrameAtMs)}`,
      });
  }
  for (const f of t.badFrames) out.push({ invariant: "well-formed frames", detail: f });
  const seen = new Set<string>();
  for (const m of t.markNames) {
    if (seen.has(m)) {
      out.push({ invariant: "mark names unique in a call", detail: `mark ${m} sent twice` });
      break;
    }
    seen.add(m);
  }
  return out;
}

/** No pitch before a human AMD result or a caller answer; a machine before the pitch routes to voicemail. */
function noPitchToMachines(t: CallTrace): Violation[] {
  const out: Violation[] = [];
  const moves = transitions(t);
  const firstPitch = moves.find((m) => PITCH_STATES.has(m.to));
  const callerTurns = t.events.filter((e) => e.type === "flow.turn");
  if (firstPitch) {
    const human = t.amdDelivered.some((a) => a.answeredBy === "human" && a.atMs <= firstPitch.atMs);
    const answered = callerTurns.some((e) => e.atMs <= firstPitch.atMs);
    if (!human && !answered)
      out.push({
        invariant: "no pitch before a person is on the line",
        detail: `entered ${firstPitch.to} at ${rel(t, firstPitch.atMs)} with neither a human AMD result nor a caller answer`,
      });
  }
  const machine = t.amdDelivered.find((a) => a.answeredBy.startsWith("machine") || a.answeredBy === "fax");
  if (machine) {
    const endedBefore = t.endedAtMs !== null && t.endedAtMs <= machine.atMs;
    const flowEndedBefore = moves.some(
      (m) => m.atMs <= machine.atMs && t.flow.states[m.to]?.end !== undefined,
    );
    const pitchedBefore = firstPitch !== undefined && firstPitch.atMs <= machine.atMs;
    // Turns the caller finished (some may still be being decided when the result lands).
    const turnsBefore = t.turnEnds.filter((x) => x.atMs <= machine.atMs).length;
    const optedOut = t.events.some((e) => e.type === EVENT_TYPES.optOutRecorded && e.atMs <= machine.atMs);
    // A human AMD result or a pressed key (machines press none) says a person is there.
    const humanBefore =
      t.amdDelivered.some((a) => a.answeredBy === "human" && a.atMs < machine.atMs) ||
      t.dtmf.some((d) => d.atMs < machine.atMs);
    const inPlay = moves.filter((m) => m.atMs <= machine.atMs).at(-1)?.to;
    const leftInitial = inPlay !== undefined && inPlay !== t.flow.initial;
    if (
      !endedBefore &&
      !flowEndedBefore &&
      !pitchedBefore &&
      !optedOut &&
      !humanBefore &&
      turnsBefore <= 1 &&
      !(leftInitial && turnsBefore === 0)
    ) {
      const voicemail = moves.some((m) => m.to === "leave_voicemail" && m.atMs >= machine.atMs);
      if (!voicemail && t.callerHungUpAtMs === null)
        out.push({
          invariant: "a machine before the pitch routes to voicemail",
          detail: `${machine.answeredBy} at ${rel(t, machine.atMs)} (in ${inPlay ?? "?"}, ${turnsBefore} caller turns) but the call never reached leave_voicemail`,
        });
      const later = moves.find((m) => m.atMs > machine.atMs && PITCH_STATES.has(m.to));
      if (later)
        out.push({
          invariant: "no pitch after a machine result",
          detail: `${machine.answeredBy} at ${rel(t, machine.atMs)}, then ${later.to} at ${rel(t, later.atMs)}`,
        });
    }
  }
  return out;
}

/** "Stop calling me" from any state: suppression recorded, no further pitch, hang-up soon after. */
function optOutAtOnce(t: CallTrace): Violation[] {
  const out: Violation[] = [];
  const optOut = t.turnEnds.find((x: TurnEnd) => x.text.includes(OPT_OUT_WORDS) && x.active);
  if (!optOut) return out;
  if (t.endedAtMs !== null && t.endedAtMs <= optOut.atMs + 50) return out;
  const recorded = t.events.find(
    (e) => e.type === EVENT_TYPES.optOutRecorded && e.atMs >= optOut.atMs - 5_000,
  );
  const already = t.events.some((e) => e.type === EVENT_TYPES.optOutRecorded && e.atMs < optOut.atMs);
  if (!recorded && !already)
    out.push({
      invariant: "opt-out honoured at once",
      detail: `"stop calling me" at ${rel(t, optOut.atMs)} in ${optOut.state}: no opt_out.recorded`,
    });
  else if (recorded && recorded.atMs > optOut.atMs + TURN_BUDGET_MS)
    out.push({
      invariant: "opt-out honoured at once",
      detail: `"stop calling me" at ${rel(t, optOut.atMs)}: suppression only at ${rel(t, recorded.atMs)}`,
    });
  const pitch = transitions(t).find((m) => m.atMs > optOut.atMs + 50 && PITCH_STATES.has(m.to));
  if (pitch)
    out.push({
      invariant: "opt-out honoured at once",
      detail: `pitched ${pitch.to} at ${rel(t, pitch.atMs)} after "stop calling me" at ${rel(t, optOut.atMs)}`,
    });
  const hungUp = t.hangups.find((h) => h >= optOut.atMs);
  if (t.callerHungUpAtMs === null && (hungUp === undefined || hungUp > optOut.atMs + TURN_BUDGET_MS + 20_000))
    out.push({
      invariant: "opt-out honoured at once",
      detail: `"stop calling me" at ${rel(t, optOut.atMs)}: ${hungUp === undefined ? "never hung up" : `hung up only at ${rel(t, hungUp)}`}`,
    });
  return out;
}

/** Every call ends within max duration + grace, durable: `call.ended` once, snapshot ended and consistent. */
function everyCallEnds(t: CallTrace): Violation[] {
  const out: Violation[] = [];
  const limit = t.startMs + t.maxCallDurationMs + END_GRACE_MS;
  if (t.endedAtMs === null || t.endedAtMs > limit)
    out.push({
      invariant: "every call ends",
      detail: t.endedAtMs === null ? "the call never ended" : `ended only at ${rel(t, t.endedAtMs)}`,
    });
  const ended = t.events.filter((e) => e.type === EVENT_TYPES.callEnded);
  if (ended.length !== 1)
    out.push({ invariant: "call.ended once in the outbox", detail: `${ended.length} call.ended events` });
  const snap = t.record?.snapshot;
  if (snap?.status !== "ended" || snap.endReason === null)
    out.push({
      invariant: "consistent final snapshot",
      detail: `snapshot ${snap?.status ?? "missing"} in ${snap?.state ?? "?"} (end reason ${snap?.endReason ?? "none"})`,
    });
  const last = transitions(t).at(-1);
  if (snap && last && last.to !== snap.state)
    out.push({
      invariant: "consistent final snapshot",
      detail: `last transition went to ${last.to}, snapshot says ${snap.state}`,
    });
  const failed = t.logs.filter((l) => l.msg === "call task failed");
  for (const f of failed)
    out.push({ invariant: "no engine task fails", detail: `call task failed: ${String(f.fields.error)}` });
  for (const e of t.errors) out.push({ invariant: "no timer throws", detail: String(e) });
  return out;
}

/** The transcript built from the audit trail shows what was played and what the caller said. */
function transcriptMatches(t: CallTrace): Violation[] {
  const out: Violation[] = [];
  const entries = assembleTranscript(
    t.events.map((e) => ({ ...e, payload: e.payload })),
    t.flow,
  );
  const said = entries.filter((e) => e.kind === "agent").map((e) => (e.kind === "agent" ? e.text : ""));
  // Every scripted line the caller heard any of is in the transcript, in order.
  let i = 0;
  for (const line of t.lines) {
    if (line.playedMs <= 0 || !said.includes(line.text)) {
      if (line.playedMs > 0 && isScripted(t, line.text))
        out.push({
          invariant: "transcript matches what was played",
          detail: `"${line.text.slice(0, 50)}" played at ${rel(t, line.firstFrameAtMs)} is not in the transcript`,
        });
      continue;
    }
    const at = said.indexOf(line.text, i);
    if (at < 0)
      out.push({
        invariant: "transcript matches what was played",
        detail: `"${line.text.slice(0, 50)}" is out of order in the transcript`,
      });
    else i = at + 1;
  }
  // Every caller turn the flow took is in the transcript with the words STT gave.
  const callerSaid = entries
    .filter((e) => e.kind === "caller")
    .map((e) => (e.kind === "caller" ? e.text : ""));
  const heard = new Set(t.turnEnds.map((x) => x.text));
  for (const text of callerSaid)
    if (!heard.has(text) && ![...heard].some((h) => text.includes(h) || h.includes(text)))
      out.push({
        invariant: "transcript matches what was heard",
        detail: `caller line "${text}" was never said`,
      });
  return out;
}

function isScripted(t: CallTrace, text: string): boolean {
  return Object.values(t.flow.states).some((s) =>
    [s.say, s.ask, s.hold, s.reprompt?.say].some((x) => x !== undefined && !x.includes("{{") && x === text),
  );
}

/** Longest silence a listening state may keep before it reprompts (its no-speech timeout), plus the turn budget. */
function deadAirLimitMs(t: CallTrace): number {
  const timeouts = Object.values(t.flow.states).map(
    (st) => st.noSpeechTimeoutMs ?? t.flow.defaults?.noSpeechTimeoutMs ?? 6_000,
  );
  return Math.max(6_000, ...timeouts) + TURN_BUDGET_MS;
}

/** While the call is up, neither side is silent for longer than a no-speech timeout and a turn: no dead air. */
function noDeadAir(t: CallTrace): Violation[] {
  const end = t.endedAtMs ?? t.startMs + t.maxCallDurationMs;
  const spans: [number, number][] = [
    ...t.lines.map((l): [number, number] => [
      l.firstFrameAtMs,
      l.finishedAtMs ?? (l.startedAtMs ?? l.firstFrameAtMs) + l.playedMs,
    ]),
    ...t.speech.map((s): [number, number] => [s.startMs, s.endMs]),
    ...t.turnEnds.map((x): [number, number] => [x.atMs, x.atMs]),
    ...t.amdDelivered.map((a): [number, number] => [a.atMs, a.atMs]),
  ].sort((a, b) => a[0] - b[0]);
  const limit = deadAirLimitMs(t);
  // A resumed instance starts its no-speech clock afresh: a restart inside a silence may add one timeout.
  const restartIn = (a: number, b: number) => t.restarts.some((r) => r.atMs > a && r.atMs < b);
  let busyUntil = t.startMs;
  for (const [from, to] of [...spans, [end, end] as [number, number]]) {
    const allowed = limit + (restartIn(busyUntil, from) ? limit - TURN_BUDGET_MS : 0);
    if (from - busyUntil > allowed)
      return [
        {
          invariant: "no dead air",
          detail: `nothing from the agent or the caller between ${rel(t, busyUntil)} and ${rel(t, from)}`,
        },
      ];
    busyUntil = Math.max(busyUntil, to);
  }
  return [];
}

/** Every invariant, in the order they are reported. */
export const INVARIANTS: readonly ((t: CallTrace) => Violation[])[] = [
  neverDeaf,
  noDeadAir,
  oneVoice,
  noPitchToMachines,
  optOutAtOnce,
  everyCallEnds,
  transcriptMatches,
];

/** Check one call. */
export function checkInvariants(t: CallTrace): Violation[] {
  return INVARIANTS.flatMap((check) => check(t));
}

/** A short account of a call for a failure message. */
export function describeTrace(t: CallTrace): string {
  const lines = t.lines.map(
    (l) =>
      `  ${rel(t, l.firstFrameAtMs)} AGENT ${l.utteranceId}${l.cut ? " (cut)" : ""}: ${l.text.slice(0, 60)}`,
  );
  const turns = t.turnEnds.map(
    (x) => `  ${rel(t, x.atMs)} CALLER (${x.state}${x.questionHeard ? "" : ", mid-line"}): ${x.text}`,
  );
  const amd = t.amdDelivered.map((a) => `  ${rel(t, a.atMs)} AMD ${a.answeredBy}`);
  const path = t.record?.snapshot.path.join(" > ") ?? "(no record)";
  return [
    `path: ${path}; end: ${t.record?.snapshot.endReason ?? "none"} at ${t.endedAtMs === null ? "never" : rel(t, t.endedAtMs)}`,
    ...[...lines, ...turns, ...amd].sort(),
  ].join("\n");
}
