// Mermaid output: every edge appears, terminals end, global branches come from a pseudo-state, paths highlight.
import { describe, expect, it } from "vitest";
import { flowToMermaid } from "../../src/flow/diagram";
import { flowEdges } from "../../src/flow/graph";
import { loadShipped } from "./helpers";

describe("flowToMermaid", () => {
  const flow = loadShipped("outbound-booking");
  const text = flowToMermaid(flow);

  it("is a state diagram starting at the initial state", () => {
    expect(text.startsWith("stateDiagram-v2\n  [*] --> greeting\n")).toBe(true);
  });

  it("draws every edge of the flow with its branch label", () => {
    for (const e of flowEdges(flow)) {
      const from = e.from === "*" ? "any_state" : e.from;
      expect(text).toContain(`${from} --> ${e.to} : ${e.label}`);
    }
    expect(text).toContain("close --> [*]");
    expect(text).toContain("put_through : put_through (transfer)");
  });

  it("highlights the states of a call's path, ignoring unknown names", () => {
    const hi = flowToMermaid(flow, ["greeting", "qualify", "nope"]);
    expect(hi).toContain("class greeting,qualify visited");
    expect(text).not.toContain("classDef");
  });
});
