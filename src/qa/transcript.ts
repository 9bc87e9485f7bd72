/**
 * Assembles a call's transcript from its audit events: the caller's final turns with their times, the
 * agent's scripted lines (rendered from the flow with the values the call captured) marked where a
 * barge-in cut them, DTMF keys, questions the caller asked about the call, and state transitions. Pure: events and the flow in, entries out.
 */
import { listens } from "../flow/graph";
import type { Flow, FlowState } from "../flow/schema";
import { renderTemplate, templateVariables } from "../flow/template";
import { formatSlotForSpeech } from "../flow/time";
import { type QaEvent, sortEvents } from "./call-facts";

interface EntryBase {
  atMs: number;
  /** Milliseconds since the call started. */
  offsetMs: number;
  eventId: string;
  seq: number;
}

/** One line of the transcript. */
export type TranscriptEntry =
  | (EntryBase & { kind: "caller"; text: string })
  | (EntryBase & { kind: "dtmf"; digit: string; mapped: boolean })
  | (EntryBase & { kind: "agent"; text: string; lineId: string; cut: boolean })
  | (EntryBase & { kind: "state"; from: string | null; to: string; trigger: string })
  | (EntryBase & { kind: "barge_in"; cut: number; reactionMs: number | null })
  /** The caller asked about the call itself (who, AI, why, where from, recorded); the agent answered. */
  | (EntryBase & { kind: "question"; state: string; kinds: string[]; reasked: boolean });

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Renders a state's lines with what the call captured; unknown values show as `[name]`. */
class LineRenderer {
  private readonly vars: Record<string, string> = {};

  constructor(private readonly flow: Flow) {}

  capture(key: string, value: string): void {
    this.vars[key] = value;
  }

  render(template: string, atMs: number): string {
    const spoken: Record<string, string> = {};
    const fallbacks: Record<string, string> = {};
    for (const name of templateVariables(template)) {
      const declared = this.flow.variables[name];
      const value = this.vars[name];
      if (value !== undefined) {
        try {
          spoken[name] =
            declared?.type === "instant" ? formatSlotForSpeech(value, this.flow.timeZone, atMs) : value;
        } catch {
          spoken[name] = value;
        }
      } else if (declared?.fallback !== undefined) fallbacks[name] = declared.fallback;
      else spoken[name] = `[${name}]`;
    }
    return renderTemplate(template, spoken, fallbacks).text;
  }
}

/** Whether entering `state` starts its actions (the interpreter skips them when resuming a listening state). */
function runsActions(state: FlowState, trigger: string): boolean {
  return state.action !== undefined && !(trigger === "resume" && listens(state));
}

/** Which of a state's lines the interpreter speaks on entry (mirrors its `speakLines`/`startActions`). */
function entryLines(state: FlowState, trigger: string): [string, string][] {
  const out: [string, string][] = [];
  if (runsActions(state, trigger)) {
    if (state.hold !== undefined) out.push(["hold", state.hold]);
    return out;
  }
  if (trigger === "resume" && state.reprompt?.say !== undefined) return [["reprompt", state.reprompt.say]];
  if (state.say !== undefined) out.push(["say", state.say]);
  if (state.ask !== undefined) out.push(["ask", state.ask]);
  return out;
}

/**
 * The transcript of one call. Without `flow` the agent's lines are left out (only the caller, keys,
 * transitions and barge-ins remain); the lines are the flow's scripted text, not a recognition of audio.
 */
export function assembleTranscript(input: readonly QaEvent[], flow?: Flow): TranscriptEntry[] {
  const events = sortEvents(input);
  const startMs = events.find((e) => e.type === "call.started")?.atMs ?? events[0]?.atMs ?? 0;
  const out: TranscriptEntry[] = [];
  const renderer = flow ? new LineRenderer(flow) : undefined;
  const base = (e: QaEvent): EntryBase => ({
    atMs: e.atMs,
    offsetMs: e.atMs - startMs,
    eventId: e.id,
    seq: e.seq,
  });
  // Agent lines queued since the caller last spoke: the ones a barge-in can cut.
  let playing: Extract<TranscriptEntry, { kind: "agent" }>[] = [];
  let actionState: { name: string; results: boolean[]; lastEvent: QaEvent | null } | null = null;

  const speak = (e: QaEvent, stateName: string, lines: [string, string][], atMs = e.atMs) => {
    if (!renderer) return;
    for (const [key, template] of lines) {
      const text = renderer.render(template, atMs);
      if (text === "") continue;
      const entry = { ...base(e), kind: "agent" as const, text, lineId: `${stateName}.${key}`, cut: false };
      out.push(entry);
      playing.push(entry);
    }
  };
  // An action state speaks its say/ask once every action it ran succeeded.
  const settleActions = () => {
    const a = actionState;
    actionState = null;
    if (!a || !flow || a.lastEvent === null || a.results.some((ok) => !ok)) return;
    const state = flow.states[a.name];
    if (!state) return;
    const lines: [string, string][] = [];
    if (state.say !== undefined) lines.push(["say", state.say]);
    if (state.ask !== undefined) lines.push(["ask", state.ask]);
    speak(a.lastEvent, a.name, lines);
  };

  for (const e of events) {
    switch (e.type) {
      case "state.transition": {
        const to = str(e.payload.to);
        if (to === undefined) break;
        const trigger = str(e.payload.trigger) ?? "";
        if (actionState) {
          if (trigger === "success") settleActions();
          else actionState = null;
        }
        out.push({ ...base(e), kind: "state", from: str(e.payload.from) ?? null, to, trigger });
        const state = flow?.states[to];
        if (state) {
          speak(e, to, entryLines(state, trigger));
          if (runsActions(state, trigger)) actionState = { name: to, results: [], lastEvent: null };
        }
        break;
      }
      case "flow.action_result":
        if (actionState && e.payload.state === actionState.name) {
          actionState.results.push(e.payload.ok === true);
          actionState.lastEvent = e;
        }
        break;
      case "flow.capture": {
        const key = str(e.payload.key);
        const value = str(e.payload.value);
        if (key !== undefined && value !== undefined) renderer?.capture(key, value);
        break;
      }
      case "flow.turn":
        settleActions();
        if (e.payload.source !== "dtmf") {
          out.push({ ...base(e), kind: "caller", text: str(e.payload.text) ?? "(no words recognised)" });
          playing = [];
        }
        break;
      case "flow.dtmf":
        settleActions();
        out.push({
          ...base(e),
          kind: "dtmf",
          digit: str(e.payload.digit) ?? "?",
          mapped: e.payload.mapped === true,
        });
        playing = [];
        break;
      case "turn.caller_question": {
        settleActions();
        const kinds = Array.isArray(e.payload.kinds)
          ? e.payload.kinds.filter((k): k is string => typeof k === "string")
          : [];
        out.push({
          ...base(e),
          kind: "question",
          state: str(e.payload.state) ?? "",
          kinds,
          reasked: e.payload.reasked === true,
        });
        playing = [];
        break;
      }
      case "call.barge_in": {
        settleActions();
        const cut = typeof e.payload.cut === "number" ? e.payload.cut : 0;
        const reactionMs = typeof e.payload.reactionMs === "number" ? e.payload.reactionMs : null;
        for (const line of playing.slice(Math.max(0, playing.length - cut))) line.cut = true;
        out.push({ ...base(e), kind: "barge_in", cut, reactionMs });
        playing = [];
        break;
      }
      default:
        break;
    }
  }
  settleActions();
  return out;
}

function vttTime(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor((t % 3_600_000) / 60_000);
  const s = Math.floor((t % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(t % 1000, 3)}`;
}

/** WebVTT captions of the spoken lines (each cue lasts until the next line, at most `maxCueMs`). */
export function transcriptToVtt(entries: readonly TranscriptEntry[], maxCueMs = 6_000): string {
  const spoken = entries.filter((e) => e.kind === "agent" || e.kind === "caller");
  const cues = spoken.map((e, i) => {
    const next = spoken[i + 1];
    const end = Math.min(
      e.offsetMs + maxCueMs,
      next === undefined ? Number.POSITIVE_INFINITY : Math.max(next.offsetMs, e.offsetMs + 500),
    );
    const who = e.kind === "agent" ? "Agent" : "Caller";
    const text = (e.kind === "agent" || e.kind === "caller" ? e.text : "").replace(/-->/g, "->");
    return `${vttTime(e.offsetMs)} --> ${vttTime(end)}\n<v ${who}>${text}`;
  });
  return `WEBVTT\n\n${cues.join("\n\n")}\n`;
}
