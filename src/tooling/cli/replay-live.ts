/**
 * `npm run replay:live [-- --cases DIR] [--only TEXT] [--json OUT]`: the replay suite's caller turns
 * classified by the real OpenAI model, per state, as the call engine asks it; per-case pass/fail.
 * Without OPENAI_API_KEY it says so and exits 0.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { getFlow } from "../../call/flows";
import { createOpenAiLlm } from "../../providers/openai";
import { classifyCase, formatLiveResults, type LiveCaseResult } from "../simulator/live-classify";
import { parseReplayCase } from "../simulator/script";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: "string", default: "test/replay/cases" },
      only: { type: "string" },
      json: { type: "string" },
    },
  });
  const apiKey = process.env.OPENAI_API_KEY;
  if (!apiKey) {
    console.log("OPENAI_API_KEY not set; nothing to run");
    return 0;
  }
  const dir = resolve(values.cases);
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
  const llm = createOpenAiLlm({
    apiKey,
    ...(process.env.OPENAI_BASE_URL ? { baseURL: process.env.OPENAI_BASE_URL } : {}),
    timeoutMs: Number(process.env.LLM_TIMEOUT_MS ?? 8000),
    // Offline check of the named models, no turn budget: the SDK's own retries (as before) are fine here.
    maxRetries: 1,
  });
  const models = {
    fast: process.env.OPENAI_MODEL ?? "gpt-4o-mini",
    reasoning: process.env.OPENAI_REASONING_MODEL ?? "gpt-4o",
  };
  const results: LiveCaseResult[] = [];
  for (const file of files) {
    const c = parseReplayCase(await readFile(join(dir, file), "utf8"), file);
    if (values.only && !`${file} ${c.name}`.includes(values.only)) continue;
    const flow = getFlow(c.flow);
    if (!flow) throw new Error(`${file}: unknown flow ${c.flow}`);
    const r = await classifyCase(c, flow, llm, models, Date.now());
    results.push(...r);
    for (const x of r)
      console.error(`${x.pass ? "pass" : "FAIL"} ${file}${x.variant ? ` [${x.variant}]` : ""}`);
  }
  console.log(formatLiveResults(results));
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
  return results.every((r) => r.pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
