/**
 * What the simulated caller observed, as data and as text: the agent's lines (audio length, marks,
 * cut by `clear`, and their words when the call's events were readable), the caller's turns, DTMF,
 * clears, and a per-turn latency waterfall. Pure.
 */
import { type AgentWordsResult, spokenText } from "./agent-words";
import type { TurnRecord } from "./conversation";
import type { AgentChunk, LineEvent, MediaPeer } from "./media-peer";

/** One agent line as heard: its audio, marks, and whether a `clear` cut it. */
export interface AgentLine {
  utteranceId: string;
  startMs: number;
  audioMs: number;
  chunks: number;
  marksEchoed: number;
  cutChunks: number;
  /** Audio the caller heard (chunks echoed as played, not cut). */
  heardMs: number;
  /** The line's words from the call's events; a cut line ends in `[interrupted]` after the words heard. */
  words?: string;
}

/** The whole simulated call. Times are ms since the call started unless named `...At`. */
export interface SimulationReport {
  callSid: string;
  flow: string;
  target: string;
  startedAt: string;
  durationMs: number;
  agentLines: AgentLine[];
  clears: number;
  turns: (Omit<TurnRecord, "startedAtMs" | "speechStartAtMs" | "speechEndAtMs" | "agentReplyAtMs"> & {
    startMs: number;
    speechStartMs: number | null;
    speechEndMs: number | null;
    agentReplyMs: number | null;
  })[];
  timeline: (LineEvent & { ms: number })[];
  closed: { code: number; reason: string } | null;
  /** Why the agent's words are missing (absent when they were read from the call's events). */
  wordsNote?: string;
}

/** Add the agent's words to each line, or the note that says why there are none. */
export function withAgentWords(r: SimulationReport, result: AgentWordsResult): SimulationReport {
  if (result.words === null) return { ...r, wordsNote: `agent words not shown: ${result.note}` };
  const words = result.words;
  const agentLines = r.agentLines.map((l) => {
    const w = words.get(l.utteranceId);
    return w ? { ...l, words: spokenText(w, l.cutChunks > 0) } : l;
  });
  const missing = agentLines.filter((l) => l.words === undefined).length;
  return {
    ...r,
    agentLines,
    ...(missing > 0
      ? { wordsNote: `${missing} of ${agentLines.length} agent lines have no words in the call's events` }
      : {}),
  };
}

function lines(chunks: readonly AgentChunk[], t0: number): AgentLine[] {
  const byId = new Map<string, AgentChunk[]>();
  for (const c of chunks) byId.set(c.utteranceId, [...(byId.get(c.utteranceId) ?? []), c]);
  return [...byId.entries()].map(([utteranceId, cs]) => {
    const bytes = cs.reduce((s, c) => s + c.bytes, 0);
    const heard = cs.filter((c) => c.echoedAtMs !== null && !c.cut).reduce((s, c) => s + c.bytes, 0);
    return {
      utteranceId,
      startMs: (cs[0]?.firstMediaAtMs ?? t0) - t0,
      audioMs: Math.round(bytes / 8),
      chunks: cs.length,
      marksEchoed: cs.filter((c) => c.echoedAtMs !== null).length,
      cutChunks: cs.filter((c) => c.cut).length,
      heardMs: Math.round(heard / 8),
    };
  });
}

/** Build the report from the peer and the turn records. */
export function buildReport(
  peer: MediaPeer,
  turns: readonly TurnRecord[],
  meta: { callSid: string; flow: string; target: string },
): SimulationReport {
  const t0 = peer.startedAtMs;
  const rel = (v: number | null) => (v === null ? null : v - t0);
  const end = Math.max(
    Date.now(),
    ...peer.timeline.map((e) => e.atMs),
    ...peer.chunks.map((c) => c.echoedAtMs ?? c.markAtMs),
  );
  return {
    callSid: meta.callSid,
    flow: meta.flow,
    target: meta.target,
    startedAt: new Date(t0).toISOString(),
    durationMs: end - t0,
    agentLines: lines(peer.chunks, t0),
    clears: peer.clears,
    turns: turns.map(({ startedAtMs, speechStartAtMs, speechEndAtMs, agentReplyAtMs, ...rest }) => ({
      ...rest,
      startMs: startedAtMs - t0,
      speechStartMs: rel(speechStartAtMs),
      speechEndMs: rel(speechEndAtMs),
      agentReplyMs: rel(agentReplyAtMs),
    })),
    timeline: [...peer.timeline].sort((a, b) => a.atMs - b.atMs).map((e) => ({ ...e, ms: e.atMs - t0 })),
    closed: peer.closed,
  };
}

function clock(ms: number): string {
  return `${(ms / 1000).toFixed(2).padStart(7)}s`;
}

function describe(e: LineEvent & { ms: number }, agent: Map<string, AgentLine>): string {
  switch (e.kind) {
    case "agent_audio": {
      const l = agent.get(e.utteranceId);
      const cut = l && l.cutChunks > 0 ? `, cut by clear after ${l.heardMs} ms heard` : "";
      const audio = `${l?.audioMs ?? 0} ms audio in ${l?.chunks ?? 0} chunks, ${l?.marksEchoed ?? 0} marks echoed${cut}`;
      return l?.words === undefined
        ? `AGENT  ${e.utteranceId}: ${audio}`
        : `AGENT  ${e.utteranceId}: "${l.words}" (${audio})`;
    }
    case "caller_speech":
      return `CALLER "${e.text}" (${e.endAtMs - e.atMs} ms)`;
    case "caller_silence":
      return `CALLER (silent ${e.durationMs} ms)`;
    case "dtmf":
      return `CALLER keyed ${e.digit}`;
    case "clear":
      return `AGENT  clear (${e.cutMarks} pending marks echoed as cut)`;
    case "amd":
      return `TWILIO AMD callback AnsweredBy=${e.answeredBy}`;
    case "hangup":
      return "CALLER hung up (stop)";
    case "closed":
      return `LINE   media socket closed ${e.code}${e.reason ? ` (${e.reason})` : ""}`;
  }
}

/** The transcript and latency waterfall as text. */
export function formatReport(r: SimulationReport): string {
  const agent = new Map(r.agentLines.map((l) => [l.utteranceId, l]));
  const out: string[] = [
    `call ${r.callSid}  flow ${r.flow}  target ${r.target}`,
    `started ${r.startedAt}, ${(r.durationMs / 1000).toFixed(1)} s, ${r.agentLines.length} agent lines, ${r.clears} clears`,
    "",
    r.agentLines.some((l) => l.words !== undefined)
      ? "transcript (what the caller's phone observed; the agent's words from the call's audit events):"
      : "transcript (what the caller's phone observed; agent words are not sent to Twilio, only audio):",
  ];
  if (r.wordsNote !== undefined) out.push(`note: ${r.wordsNote}`);
  for (const e of r.timeline) out.push(`${clock(e.ms)}  ${describe(e, agent)}`);
  out.push("", "latency per turn (caller's last speech frame or key → agent's first audio):");
  const measured = r.turns.filter((t) => t.latencyMs !== null);
  const scale = Math.max(1, ...measured.map((t) => t.latencyMs ?? 0));
  const width = 40;
  for (const t of r.turns) {
    const label = `turn ${String(t.index + 1).padStart(2)} ${(t.say ?? (t.dtmf ? `[dtmf ${t.dtmf}]` : t.amd ? `[amd ${t.amd}]` : t.hangup ? "[hang up]" : "[silence]")).slice(0, 28).padEnd(28)}`;
    if (t.latencyMs === null) {
      out.push(`${label} ${"".padEnd(width)} no agent audio after it`);
      continue;
    }
    const bar = "█".repeat(Math.max(1, Math.round((t.latencyMs / scale) * width)));
    out.push(`${label} ${bar.padEnd(width)} ${t.latencyMs} ms`);
  }
  if (measured.length > 0) {
    const sorted = measured.map((t) => t.latencyMs ?? 0).sort((a, b) => a - b);
    const p50 = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
    out.push(`median ${p50} ms, max ${sorted[sorted.length - 1] ?? 0} ms over ${sorted.length} turns`);
  }
  if (r.closed) out.push(`closed: ${r.closed.code} ${r.closed.reason}`);
  return out.join("\n");
}
