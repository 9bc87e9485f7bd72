/// <reference types="vite/client" />
/**
 * The conversation replay suite: every case in test/replay/cases/*.json is one call placed through
 * the call simulator's Twilio peer against the Worker and the emulators (fast-path classifier and
 * the OpenAI emulator decide the turns). Calls that mostly wait on no-speech timers run
 * concurrently; the rest (shared emulator faults, real-time audio) one at a time.
 */
import { describe, expect, inject, it } from "vitest";
import { parseReplayCase, type ReplayCase } from "../../src/tooling/simulator/script";
import { checkCase, diagnose, runCase } from "./run-case";

const files = import.meta.glob("./cases/*.json", { eager: true, import: "default" });
const cases: { file: string; c: ReplayCase }[] = Object.entries(files)
  .map(([path, raw]) => ({ file: path.replace("./cases/", ""), c: parseReplayCase(raw, path) }))
  .sort((a, b) => a.file.localeCompare(b.file));

const renv = { urls: inject("emulatorUrls"), speech: inject("speechFixtures") };
/** Cases that mostly wait on the agent's wall-clock no-speech timers can share the machine. */
const timerBound = (c: ReplayCase) =>
  c.faults === undefined &&
  c.playbackSpeed >= 5 &&
  [...c.turns, ...(c.byHours ? [...c.byHours.open.turns, ...c.byHours.closed.turns] : [])].some(
    (t) => (t.silenceMs ?? 0) >= 10_000,
  );

function define(entry: { file: string; c: ReplayCase }, sequential: boolean): void {
  const { file, c } = entry;
  const title = `${file.replace(/\.json$/, "")}: ${c.name}`;
  if (c.knownIssue) {
    it.skip(`${title} — known issue: ${c.knownIssue}`, () => undefined);
    return;
  }
  (sequential ? it.sequential : it)(
    title,
    async () => {
      const run = await runCase(c, renv);
      await checkCase(c, run, renv).catch(async (err: unknown) => {
        const detail = await diagnose(renv, run.callSid, run.peer, c.flow);
        throw new Error(`${err instanceof Error ? err.message : String(err)}\n${detail}`);
      });
    },
    45_000,
  );
}

it("has at least 25 replay cases, each with a unique name", () => {
  expect(cases.length).toBeGreaterThanOrEqual(25);
  expect(new Set(cases.map((x) => x.c.name)).size).toBe(cases.length);
});

// Calls waiting on no-speech timers run alongside the conversations, which go one at a time
// (emulator faults are shared, and each call's timing stays close to a real call's).
describe.concurrent("replay", () => {
  for (const entry of cases.filter((x) => timerBound(x.c))) define(entry, false);
  describe.concurrent("conversations, one at a time", () => {
    for (const entry of cases.filter((x) => !timerBound(x.c))) define(entry, true);
  });
});
