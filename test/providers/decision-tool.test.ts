import { describe, expect, it } from "vitest";
import {
  buildDecisionMessages,
  buildDecisionTool,
  DECISION_SYSTEM_PROMPT,
  parseDecisionArguments,
  ReplyFieldExtractor,
} from "../../src/providers/decision-tool";
import type { DecisionState } from "../../src/providers/ports";

const state: DecisionState = {
  id: "confirm",
  prompt: "Confirm the booking.",
  branches: ["yes", { name: "no", description: "caller declines" }, "unclear"],
  captures: [{ name: "email", description: "caller's email" }],
  wantsReply: false,
};

describe("buildDecisionTool", () => {
  it("makes branch an enum of exactly the state's branches and captures nullable strings", () => {
    const tool = buildDecisionTool(state);
    const params = tool.function.parameters as { properties: Record<string, unknown>; required: string[] };
    expect(tool.function.name).toBe("decide");
    expect(params.properties.branch).toEqual({ type: "string", enum: ["yes", "no", "unclear"] });
    expect(params.properties.captures).toEqual({
      type: "object",
      properties: { email: { type: ["string", "null"], description: "caller's email" } },
      required: ["email"],
      additionalProperties: false,
    });
    expect(params.properties).not.toHaveProperty("reply");
    expect(params.required).toEqual(["branch", "captures"]);
    expect(tool.function.description).toContain("no: caller declines");
  });

  it("adds reply last only when the state wants one, and omits captures when there are none", () => {
    const tool = buildDecisionTool({ ...state, captures: [], wantsReply: true });
    const params = tool.function.parameters as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(params.properties)).toEqual(["branch", "reply"]);
    expect(params.required).toEqual(["branch", "reply"]);
  });

  it("is pure: the same state gives byte-identical JSON", () => {
    expect(JSON.stringify(buildDecisionTool(state))).toBe(JSON.stringify(buildDecisionTool({ ...state })));
  });

  it("refuses a state without branches", () => {
    expect(() => buildDecisionTool({ ...state, branches: [] })).toThrow();
  });
});

describe("buildDecisionMessages", () => {
  it("keeps the fixed prefix first and the state last", () => {
    const msgs = buildDecisionMessages("per call", [{ role: "user", text: "hi" }], state);
    expect(msgs[0]).toEqual({ role: "system", content: DECISION_SYSTEM_PROMPT });
    expect(msgs[1]).toEqual({ role: "system", content: "per call" });
    expect(msgs.at(-1)?.content).toContain("confirm");
  });
});

describe("parseDecisionArguments", () => {
  it("keeps known non-empty captures and rejects unknown branches", () => {
    const ok = parseDecisionArguments('{"branch":"yes","captures":{"email":"a@b.co","other":"x"}}', state);
    expect(ok).toEqual({ ok: true, value: { branch: "yes", captures: { email: "a@b.co" } } });
    expect(parseDecisionArguments('{"branch":"maybe"}', state).ok).toBe(false);
    expect(parseDecisionArguments("{not json", state).ok).toBe(false);
    const nulls = parseDecisionArguments('{"branch":"no","captures":{"email":null}}', state);
    expect(nulls).toEqual({ ok: true, value: { branch: "no", captures: {} } });
  });
});

describe("ReplyFieldExtractor", () => {
  it("decodes the reply string across arbitrary fragment boundaries, escapes included", () => {
    const json = JSON.stringify({ branch: "yes", reply: 'Say "hi"\nthen \u00e9 bye' });
    for (const size of [1, 3, 7, 100]) {
      const ex = new ReplyFieldExtractor();
      let out = "";
      for (let i = 0; i < json.length; i += size) out += ex.push(json.slice(i, i + size));
      expect(out).toBe('Say "hi"\nthen \u00e9 bye');
    }
    const escaped = '{"reply":"caf\\u00e9 ok"}';
    const ex = new ReplyFieldExtractor();
    let out = "";
    for (const ch of escaped) out += ex.push(ch);
    expect(out).toBe("caf\u00e9 ok");
  });
});
