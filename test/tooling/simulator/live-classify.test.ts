import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getFlow } from "../../../src/call/flows";
import { createOpenAiLlm } from "../../../src/providers/openai";
import { type OpenAiEmulator, startOpenAiEmulator } from "../../../src/tooling/emulators/openai";
import { classifyCase, formatLiveResults } from "../../../src/tooling/simulator/live-classify";
import { parseReplayCase, type ReplayCase } from "../../../src/tooling/simulator/script";

const CASES = new URL("../../replay/cases/", import.meta.url);

async function loadCase(file: string): Promise<ReplayCase> {
  return parseReplayCase(await readFile(new URL(file, CASES), "utf8"), file);
}

describe("replay:live classification (against the OpenAI emulator)", () => {
  let openai: OpenAiEmulator;
  beforeAll(async () => {
    openai = await startOpenAiEmulator();
  });
  afterAll(async () => openai.close());

  const models = { fast: "gpt-4o-mini", reasoning: "gpt-4o" };

  it("asks the model with the state's branches and captures, and passes when it agrees", async () => {
    const c = await loadCase("01-positive-booking.json");
    const flow = getFlow(c.flow);
    if (!flow) throw new Error("flow missing");
    const llm = createOpenAiLlm({ apiKey: "k", baseURL: openai.baseURL });
    const [result] = await classifyCase(c, flow, llm, models, Date.parse("2026-11-25T10:00:00Z"));
    expect(result?.turns.map((t) => [t.state, t.expected, t.got])).toEqual([
      ["greeting", "yes", "yes"],
      ["qualify", "positive", "positive"],
      ["book", "slot_selected", "slot_selected"],
    ]);
    expect(result?.pass).toBe(true);
    const sent = openai.requests().at(-1)?.body as { tools: { function: { parameters: unknown } }[] };
    expect(JSON.stringify(sent.tools[0]?.function.parameters)).toContain("other_time");
  });

  it("fails a case whose expected branch the model does not give, and names the turn", async () => {
    const c = await loadCase("01-positive-booking.json");
    const wrong = {
      ...c,
      turns: c.turns.map((t, i) =>
        i === 1 ? { ...t, decision: { state: "qualify", branch: "negative" } } : t,
      ),
    };
    const flow = getFlow(c.flow);
    if (!flow) throw new Error("flow missing");
    const llm = createOpenAiLlm({ apiKey: "k", baseURL: openai.baseURL });
    const results = await classifyCase(wrong, flow, llm, models, Date.now());
    expect(results[0]?.pass).toBe(false);
    expect(formatLiveResults(results)).toContain("turn 2 in qualify: expected negative, got positive");
  });

  it("classifies both working-hours variants of an inbound case, and reports an LLM outage per turn", async () => {
    const c = await loadCase("26-inbound-opt-out.json");
    const flow = getFlow(c.flow);
    if (!flow) throw new Error("flow missing");
    const llm = createOpenAiLlm({ apiKey: "k", baseURL: openai.baseURL, maxRetries: 0 });
    const ok = await classifyCase(c, flow, llm, models, Date.now());
    expect(ok.map((r) => [r.variant, r.pass])).toEqual([
      ["open", true],
      ["closed", true],
    ]);
    openai.setFaults({ status: 500 });
    try {
      const down = await classifyCase(c, flow, llm, models, Date.now());
      expect(down.every((r) => !r.pass)).toBe(true);
      expect(down[0]?.turns[0]?.error).toMatch(/500/);
    } finally {
      openai.setFaults({});
    }
  });

  it("every replay case file parses and names listening states for its decisions", async () => {
    const files = (await readdir(CASES)).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(25);
    for (const f of files) {
      const c = await loadCase(f);
      const flow = getFlow(c.flow);
      expect(flow, f).toBeDefined();
      const turns = [...c.turns, ...(c.byHours ? [...c.byHours.open.turns, ...c.byHours.closed.turns] : [])];
      for (const t of turns) {
        if (!t.decision || !flow) continue;
        const state = flow.states[t.decision.state];
        expect(state, `${f}: state ${t.decision.state}`).toBeDefined();
        const branches = [...Object.keys(state?.on ?? {}), "opt_out", "no_speech"];
        expect(branches, `${f}: branch ${t.decision.branch} in ${t.decision.state}`).toContain(
          t.decision.branch,
        );
      }
    }
  });
});
