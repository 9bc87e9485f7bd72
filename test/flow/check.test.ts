// Static checks: the shipped flows pass; each broken fixture is rejected with its rule, state and path.
import { describe, expect, it } from "vitest";
import { checkFlow } from "../../src/flow/check";
import { parseFlow } from "../../src/flow/schema";
import { checkFile } from "../../src/tooling/cli/flow-check";
import { loadFixture, loadShipped } from "./helpers";

const CASES: { fixture: string; rule: string; state: string; path: string }[] = [
  { fixture: "unknown-state", rule: "unknown-state", state: "greeting", path: "states.greeting.on.yes" },
  { fixture: "unreachable-state", rule: "unreachable-state", state: "orphan", path: "states.orphan" },
  { fixture: "missing-on", rule: "missing-on", state: "limbo", path: "states.limbo" },
  { fixture: "missing-no-speech", rule: "missing-no-speech", state: "book", path: "states.book.on" },
  { fixture: "missing-voicemail", rule: "missing-voicemail", state: "greeting", path: "states.greeting.on" },
  {
    fixture: "missing-failure-branch",
    rule: "missing-failure-branch",
    state: "book",
    path: "states.book.on",
  },
  { fixture: "unprovided-variable", rule: "unprovided-variable", state: "book", path: "states.book.say" },
  { fixture: "unbounded-cycle", rule: "unbounded-cycle", state: "greeting", path: "states.greeting" },
  { fixture: "unknown-action", rule: "unknown-action", state: "book", path: "states.book.action" },
  {
    fixture: "reprompt-then-cycle",
    rule: "reprompt-then-cycle",
    state: "greeting",
    path: "states.greeting.reprompt.exhausted",
  },
  {
    fixture: "dtmf-unknown-branch",
    rule: "dtmf-unknown-branch",
    state: "greeting",
    path: "states.greeting.dtmf.1",
  },
  { fixture: "terminal-listens", rule: "terminal-listens", state: "close", path: "states.close.on" },
  { fixture: "missing-hours-branch", rule: "missing-hours-branch", state: "hours", path: "states.hours.on" },
  { fixture: "close-not-terminal", rule: "close-not-terminal", state: "book", path: "global.max_duration" },
];

describe("checkFlow", () => {
  it("passes both shipped flows and the valid base fixture", () => {
    expect(checkFlow(loadShipped("outbound-booking"))).toEqual([]);
    expect(checkFlow(loadShipped("inbound-triage"))).toEqual([]);
    expect(checkFlow(parseFlow(loadFixture("valid-base.json")))).toEqual([]);
  });

  for (const c of CASES) {
    it(`rejects ${c.fixture}.json with rule ${c.rule} at ${c.path}`, () => {
      const issues = checkFlow(parseFlow(loadFixture(`${c.fixture}.json`)));
      const hit = issues.find((i) => i.rule === c.rule);
      expect(hit, JSON.stringify(issues)).toBeDefined();
      expect(hit?.state).toBe(c.state);
      expect(hit?.path.join(".")).toBe(c.path);
      expect(hit?.message).toContain(`"${c.state}"`);
      expect(hit?.message).toContain(c.path);
    });
  }

  it("names the unprovided variable and says nothing provides it", () => {
    const [hit] = checkFlow(parseFlow(loadFixture("unprovided-variable.json")));
    expect(hit?.message).toMatch(/\{\{office\}\}: nothing provides it/);
  });

  it("flags a captured variable spoken elsewhere without a fallback as not guaranteed", () => {
    const flow = loadShipped("inbound-triage");
    const { fallback: _dropped, ...name } = flow.variables.name ?? {};
    const issues = checkFlow({ ...flow, variables: { ...flow.variables, name } });
    expect(issues.map((i) => i.path.join("."))).toEqual(["states.log_lead.say", "states.route_to_queue.say"]);
    expect(issues[0]?.message).toMatch(
      /\{\{name\}\}: it is not guaranteed here \(only capture in "greeting"/,
    );
  });

  it("lists the states of an unbounded cycle", () => {
    const [hit] = checkFlow(parseFlow(loadFixture("unbounded-cycle.json")));
    expect(hit?.message).toContain("greeting, reprompt");
  });
});

describe("flow:check CLI", () => {
  it("accepts the shipped flows", () => {
    expect(checkFile("src/flows/outbound-booking.json")).toEqual([]);
    expect(checkFile("src/flows/inbound-triage.json")).toEqual([]);
  });

  for (const c of [...CASES.map((x) => x.fixture), "invalid-shape"]) {
    it(`rejects ${c}.json with a located message`, () => {
      const lines = checkFile(`test/flow/fixtures/${c}.json`);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toMatch(new RegExp(`^test/flow/fixtures/${c}\\.json: \\[[a-z-]+\\] `));
    });
  }

  it("reports the schema path of a malformed file", () => {
    expect(checkFile("test/flow/fixtures/invalid-shape.json")).toEqual([
      "test/flow/fixtures/invalid-shape.json: [schema] states.greeting.on.yes: Invalid input: expected string, received number",
    ]);
  });
});
