/**
 * A layered layout of a flow's state graph for the dashboard's SVG: states in columns by their distance
 * from the initial state, edges from the flow's declared transitions, and the path one call took.
 * Pure: flow and path in, coordinates out.
 */
import { flowEdges } from "../flow/graph";
import type { Flow } from "../flow/schema";

/** A placed state. `step` lists the positions (1-based) at which the call entered it. */
export interface LayoutNode {
  id: string;
  x: number;
  y: number;
  visited: boolean;
  steps: number[];
  terminal: boolean;
}

/** A drawn edge; `taken` when the call went from `from` to `to` directly. */
export interface LayoutEdge {
  from: string;
  to: string;
  label: string;
  taken: boolean;
}

export interface FlowLayout {
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

const COL_W = 170;
const ROW_H = 64;
const NODE_W = 140;
const NODE_H = 34;
const PAD = 16;

/** Lay out `flow` with `path` (states entered, in order) highlighted. */
export function layoutFlow(flow: Flow, path: readonly string[]): FlowLayout {
  const all = flowEdges(flow).filter((e) => e.from !== "*" && e.kind !== "resume");
  const depth = new Map<string, number>([[flow.initial, 0]]);
  const queue = [flow.initial];
  while (queue.length > 0) {
    const at = queue.shift();
    if (at === undefined) break;
    const d = depth.get(at) ?? 0;
    for (const e of all)
      if (e.from === at && !depth.has(e.to) && flow.states[e.to] !== undefined) {
        depth.set(e.to, d + 1);
        queue.push(e.to);
      }
  }
  const maxDepth = Math.max(0, ...depth.values());
  for (const name of Object.keys(flow.states)) if (!depth.has(name)) depth.set(name, maxDepth + 1);
  const columns = new Map<number, string[]>();
  for (const [name, d] of depth) columns.set(d, [...(columns.get(d) ?? []), name]);
  const steps = new Map<string, number[]>();
  path.forEach((s, i) => {
    steps.set(s, [...(steps.get(s) ?? []), i + 1]);
  });
  const nodes: LayoutNode[] = [];
  let rows = 0;
  for (const [d, names] of [...columns.entries()].sort((a, b) => a[0] - b[0])) {
    rows = Math.max(rows, names.length);
    names.forEach((id, row) => {
      const state = flow.states[id];
      nodes.push({
        id,
        x: PAD + d * COL_W,
        y: PAD + row * ROW_H,
        visited: steps.has(id),
        steps: steps.get(id) ?? [],
        terminal: state?.end !== undefined,
      });
    });
  }
  const takenPairs = new Set<string>();
  for (let i = 1; i < path.length; i++) takenPairs.add(`${path[i - 1]}>${path[i]}`);
  const seen = new Set<string>();
  const edges: LayoutEdge[] = [];
  for (const e of all) {
    const key = `${e.from}>${e.to}`;
    if (seen.has(key) || e.from === e.to) continue;
    seen.add(key);
    edges.push({ from: e.from, to: e.to, label: e.label, taken: takenPairs.has(key) });
  }
  // Steps the flow took that no declared edge draws (global opt-out, max duration, resume): draw them too.
  for (const key of takenPairs) {
    if (seen.has(key)) continue;
    const [from, to] = key.split(">");
    if (from && to && from !== to) edges.push({ from, to, label: "", taken: true });
  }
  const cols = columns.size;
  return {
    width: PAD * 2 + (cols - 1) * COL_W + NODE_W,
    height: PAD * 2 + (rows - 1) * ROW_H + NODE_H,
    nodeWidth: NODE_W,
    nodeHeight: NODE_H,
    nodes,
    edges,
  };
}
