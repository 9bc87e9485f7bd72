// Flow format: parse errors are path-precise and the committed JSON Schema matches the zod definition.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { flowJsonSchema } from "../../src/flow/json-schema";
import { FlowError, parseFlow } from "../../src/flow/schema";
import { loadFixture, loadShipped } from "./helpers";

describe("parseFlow", () => {
  it("parses both shipped flows and applies the default time zone", () => {
    expect(loadShipped("outbound-booking").timeZone).toBe("Europe/London");
    const { timeZone: _tz, ...rest } = loadFixture("valid-base.json") as Record<string, unknown>;
    expect(parseFlow(rest).timeZone).toBe("Europe/London");
  });

  it("throws FlowError naming the exact path of each problem", () => {
    const bad = loadFixture("invalid-shape.json");
    expect(() => parseFlow(bad)).toThrow(FlowError);
    expect(() => parseFlow(bad)).toThrow(/states\.greeting\.on\.yes: Invalid input: expected string/);
  });

  it("rejects unknown keys, bad state names and bad time zones", () => {
    const base = loadFixture("valid-base.json") as Record<string, unknown>;
    expect(() => parseFlow({ ...base, timeZone: "Mars/Olympus" })).toThrow(
      /timeZone: must be an IANA time zone/,
    );
    expect(() => parseFlow({ ...base, extra: 1 })).toThrow(/\(root\): Unrecognized key/);
    const states = base.states as Record<string, unknown>;
    expect(() => parseFlow({ ...base, states: { ...states, "Bad Name": { end: "hangup" } } })).toThrow(
      /states\.Bad Name: Invalid key in record: must be lower_snake_case/,
    );
  });
});

describe("generated JSON Schema", () => {
  it("matches the committed src/flows/flow.schema.json (regenerate with npm run flow:check -- --write-schema)", () => {
    const committed: unknown = JSON.parse(readFileSync("src/flows/flow.schema.json", "utf8"));
    expect(committed).toEqual(flowJsonSchema());
  });

  it("describes the state fields editors should autocomplete", () => {
    const schema = flowJsonSchema() as {
      properties: { states: { additionalProperties: { properties: object } } };
    };
    const fields = Object.keys(schema.properties.states.additionalProperties.properties);
    for (const f of [
      "say",
      "ask",
      "capture",
      "action",
      "on",
      "end",
      "reprompt",
      "noSpeechTimeoutMs",
      "reasoning",
      "vad",
    ]) {
      expect(fields).toContain(f);
    }
  });
});
