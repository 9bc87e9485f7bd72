import { describe, expect, it } from "vitest";
import { agentWordsFromEvents, fetchAgentWords } from "../../../src/tooling/simulator/agent-words";
import {
  type AgentLine,
  formatReport,
  type SimulationReport,
  withAgentWords,
} from "../../../src/tooling/simulator/report";

const line = (utteranceId: string, over: Partial<AgentLine> = {}): AgentLine => ({
  utteranceId,
  startMs: 0,
  audioMs: 3720,
  chunks: 4,
  marksEchoed: 4,
  cutChunks: 0,
  heardMs: 3720,
  ...over,
});

/** Greeting, the caller's answer, a reply the caller cut short. */
function report(): SimulationReport {
  return {
    callSid: "CA1",
    flow: "outbound-booking",
    target: "http://app",
    startedAt: new Date(0).toISOString(),
    durationMs: 9_000,
    agentLines: [line("u1"), line("u2", { cutChunks: 2, heardMs: 900, marksEchoed: 2 })],
    clears: 1,
    turns: [],
    timeline: [
      { kind: "agent_audio", atMs: 100, ms: 100, utteranceId: "u1" },
      { kind: "caller_speech", atMs: 4_000, ms: 4_000, endAtMs: 4_900, text: "Yes, speaking." },
      { kind: "agent_audio", atMs: 5_600, ms: 5_600, utteranceId: "u2" },
      { kind: "clear", atMs: 6_500, ms: 6_500, cutMarks: 2 },
    ],
    closed: null,
  };
}

const events = [
  { type: "agent.line", payload: { utteranceId: "u1", state: "greeting", text: "Hi, is that Jo?" } },
  { type: "flow.turn", payload: { text: "Yes, speaking." } },
  {
    type: "agent.line",
    payload: { utteranceId: "u2", state: "qualify", text: "Great. Are you still looking?" },
  },
  {
    type: "call.barge_in",
    payload: { reactionMs: 120, cut: 1, cutLines: [{ utteranceId: "u2", heardChars: 6 }] },
  },
  { type: "agent.line", payload: { utteranceId: 7 } },
];

describe("agent words in the simulator report", () => {
  it("reads each line's words and what a barge-in left heard from the call's events", () => {
    expect(agentWordsFromEvents(events)).toEqual(
      new Map([
        ["u1", { text: "Hi, is that Jo?", heardChars: null }],
        ["u2", { text: "Great. Are you still looking?", heardChars: 6 }],
      ]),
    );
  });

  it("prints the agent's words, and the heard part of a cut line with [interrupted]", () => {
    const text = formatReport(withAgentWords(report(), { words: agentWordsFromEvents(events) }));
    expect(text).toContain("the agent's words from the call's audit events");
    expect(text).toContain('AGENT  u1: "Hi, is that Jo?" (3720 ms audio in 4 chunks, 4 marks echoed)');
    expect(text).toContain('CALLER "Yes, speaking."');
    expect(text).toContain(
      'AGENT  u2: "Great. [interrupted]" (3720 ms audio in 4 chunks, 2 marks echoed, cut by clear',
    );
    expect(text).not.toContain("note:");
  });

  it("marks a line the caller's phone saw cut even when the events do not say how much was heard", () => {
    const words = agentWordsFromEvents(events.slice(0, 3));
    const r = withAgentWords(report(), { words });
    expect(r.agentLines[1]?.words).toBe("Great. Are you still looking? [interrupted]");
  });

  it("falls back to audio only, with a note, when the words are not available", () => {
    const text = formatReport(withAgentWords(report(), { words: null, note: "no admin token" }));
    expect(text).toContain("AGENT  u1: 3720 ms audio in 4 chunks, 4 marks echoed");
    expect(text).toContain("only audio");
    expect(text).toContain("note: agent words not shown: no admin token");
  });

  it("notes lines whose words are missing from the events", () => {
    const r = withAgentWords(report(), { words: agentWordsFromEvents(events.slice(0, 1)) });
    expect(formatReport(r)).toContain("note: 1 of 2 agent lines have no words in the call's events");
    expect(formatReport(r)).toContain("AGENT  u2: 3720 ms audio");
  });
});

describe("fetchAgentWords", () => {
  const opts = {
    baseUrl: "http://app",
    adminToken: "tok",
    callSid: "CA1",
    expectIds: ["u1"],
    retryDelayMs: 1,
  };

  it("reads the events with the admin token", async () => {
    const seen: string[] = [];
    const fakeFetch = (async (url: URL, init?: RequestInit) => {
      seen.push(`${String(url)} ${new Headers(init?.headers).get("authorization")}`);
      return Response.json({ callSid: "CA1", events });
    }) as typeof fetch;
    const result = await fetchAgentWords(fakeFetch, opts);
    expect(seen).toEqual(["http://app/admin/calls/CA1/events Bearer tok"]);
    expect(result.words?.get("u1")?.text).toBe("Hi, is that Jo?");
  });

  it("says why when it cannot: no token, refused, or unreachable", async () => {
    const never = (async () => {
      throw new Error("connect ECONNREFUSED");
    }) as typeof fetch;
    expect(await fetchAgentWords(never, { ...opts, adminToken: undefined })).toMatchObject({
      words: null,
      note: expect.stringContaining("no admin token"),
    });
    expect(await fetchAgentWords(never, opts)).toMatchObject({
      note: expect.stringContaining("ECONNREFUSED"),
    });
    const refused = (async () => new Response("no", { status: 403 })) as typeof fetch;
    expect(await fetchAgentWords(refused, opts)).toMatchObject({ note: "events route answered 403" });
  });
});
