/** Mermaid state diagram of a flow, optionally highlighting the path one call took. */
import { flowEdges, isTerminal } from "./graph";
import type { Flow } from "./schema";

const GLOBAL_NODE = "any_state";

function label(text: string): string {
  return text.replace(/[:;#"]/g, " ").trim();
}

/**
 * `stateDiagram-v2` text: one arrow per edge labelled with its branch; global branches come from a pseudo-state
 * "any_state"; terminal states lead to [*]. States in `highlightPath` get the `visited` class.
 */
export function flowToMermaid(flow: Flow, highlightPath: string[] = []): string {
  const lines = ["stateDiagram-v2", `  [*] --> ${flow.initial}`];
  for (const [name, state] of Object.entries(flow.states)) {
    const kind = state.end === "transfer" ? " (transfer)" : state.end === "hangup" ? " (hang up)" : "";
    if (kind !== "" || state.resume === true)
      lines.push(`  ${name} : ${name}${state.resume === true ? " (returns)" : kind}`);
  }
  const globals = flowEdges(flow).filter((e) => e.kind === "global");
  if (globals.length > 0) lines.push(`  state "any listening state" as ${GLOBAL_NODE}`);
  const seen = new Set<string>();
  for (const e of flowEdges(flow)) {
    const from = e.from === "*" ? GLOBAL_NODE : e.from;
    const line = `  ${from} --> ${e.to} : ${label(e.label)}`;
    if (seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  for (const [name, state] of Object.entries(flow.states))
    if (isTerminal(state)) lines.push(`  ${name} --> [*]`);
  const visited = [...new Set(highlightPath.filter((s) => flow.states[s] !== undefined))];
  if (visited.length > 0) {
    lines.push("  classDef visited fill:#ffe08a,stroke:#b8860b,stroke-width:2px");
    lines.push(`  class ${visited.join(",")} visited`);
  }
  return `${lines.join("\n")}\n`;
}
