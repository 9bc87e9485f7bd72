/**
 * Server-rendered SVG charts: the flow's state graph with the call's path, the per-turn latency waterfall,
 * and a latency histogram. Each chart has a text alternative for screen readers.
 */
import type { FC } from "hono/jsx";
import type { LatencyBucket } from "../qa/rollups";
import type { FlowLayout } from "./flow-layout";

/** One turn's segments for the waterfall. */
export interface WaterfallTurn {
  turn: number;
  kind: string;
  totalMs: number;
  segments: { name: string; ms: number }[];
}

const SEGMENT_COLORS: Record<string, string> = {
  endpointing: "#2f6db5",
  decision: "#8a4fbf",
  audio: "#1f8a5b",
  send: "#b5642f",
};

/** The flow graph with visited states filled and the call's transitions drawn thick. */
export const FlowGraph: FC<{ layout: FlowLayout; title: string }> = ({ layout, title }) => {
  const at = new Map(layout.nodes.map((n) => [n.id, n]));
  const w = layout.nodeWidth;
  const h = layout.nodeHeight;
  const ordered = [...layout.edges].sort((a, b) => Number(a.taken) - Number(b.taken));
  return (
    <svg
      class="chart flow"
      viewBox={`0 0 ${layout.width} ${layout.height}`}
      role="img"
      aria-label={title}
      preserveAspectRatio="xMinYMin meet"
    >
      <title>{title}</title>
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" fill="#555" />
        </marker>
        <marker
          id="arrow-taken"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" fill="#b35900" />
        </marker>
      </defs>
      {ordered.map((e) => {
        const a = at.get(e.from);
        const b = at.get(e.to);
        if (!a || !b) return null;
        const forward = b.x > a.x;
        const x1 = forward ? a.x + w : a.x + w / 2;
        const y1 = forward ? a.y + h / 2 : a.y + (b.y >= a.y ? h : 0);
        const x2 = forward ? b.x : b.x + w / 2;
        const y2 = forward ? b.y + h / 2 : b.y + (b.y >= a.y ? 0 : h);
        const mx = (x1 + x2) / 2;
        const d = forward
          ? `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`
          : `M${x1},${y1} Q${mx + 40},${(y1 + y2) / 2} ${x2},${y2}`;
        return (
          <path
            d={d}
            fill="none"
            class={e.taken ? "edge taken" : "edge"}
            stroke={e.taken ? "#b35900" : "#9a9a9a"}
            stroke-width={e.taken ? 3 : 1}
            marker-end={e.taken ? "url(#arrow-taken)" : "url(#arrow)"}
          >
            <title>{`${e.from} → ${e.to}${e.label ? ` (${e.label})` : ""}`}</title>
          </path>
        );
      })}
      {layout.nodes.map((n) => (
        <g class={n.visited ? "node visited" : "node"}>
          <rect
            x={n.x}
            y={n.y}
            width={w}
            height={h}
            rx={n.terminal ? 16 : 5}
            fill={n.visited ? "#ffe08a" : "#ffffff"}
            stroke={n.visited ? "#8a5a00" : "#6b6b6b"}
            stroke-width={n.visited ? 2 : 1}
          />
          <text x={n.x + w / 2} y={n.y + h / 2 + 4} text-anchor="middle" font-size="12" fill="#1a1a1a">
            {n.id}
            {n.steps.length > 0 ? ` #${n.steps.slice(0, 3).join(",")}` : ""}
          </text>
        </g>
      ))}
    </svg>
  );
};

/** Per-turn latency waterfall: one bar per turn split into its segments, with the budget line. */
export const Waterfall: FC<{ turns: WaterfallTurn[]; budgetMs: number }> = ({ turns, budgetMs }) => {
  const labelW = 70;
  const rowH = 26;
  const chartW = 560;
  const maxMs = Math.max(budgetMs * 1.1, ...turns.map((t) => t.totalMs));
  const scale = (ms: number) => (ms / maxMs) * (chartW - labelW - 60);
  const height = turns.length * rowH + 40;
  const summary = turns.map((t) => `turn ${t.turn}: ${t.totalMs} ms`).join("; ");
  return (
    <svg
      class="chart waterfall"
      viewBox={`0 0 ${chartW} ${height}`}
      role="img"
      aria-label={`Latency per turn. ${summary}`}
    >
      <title>Latency per turn</title>
      {turns.map((t, i) => {
        let x = labelW;
        const y = 10 + i * rowH;
        return (
          <g class="turn-row">
            <text x={4} y={y + 14} font-size="12" fill="#1a1a1a">{`turn ${t.turn}`}</text>
            {t.segments.map((s) => {
              const width = Math.max(1, scale(s.ms));
              const rect = (
                <rect x={x} y={y} width={width} height={rowH - 8} fill={SEGMENT_COLORS[s.name] ?? "#777"}>
                  <title>{`${s.name}: ${s.ms} ms`}</title>
                </rect>
              );
              x += width;
              return rect;
            })}
            <text x={x + 4} y={y + 14} font-size="12" fill={t.totalMs > budgetMs ? "#a30000" : "#1a1a1a"}>
              {`${t.totalMs} ms`}
            </text>
          </g>
        );
      })}
      <line
        x1={labelW + scale(budgetMs)}
        x2={labelW + scale(budgetMs)}
        y1={4}
        y2={height - 22}
        stroke="#a30000"
        stroke-dasharray="4 3"
      />
      <text
        x={labelW + scale(budgetMs) + 3}
        y={height - 8}
        font-size="11"
        fill="#a30000"
      >{`budget ${budgetMs} ms`}</text>
    </svg>
  );
};

/** Legend for the waterfall's segment colours. */
export const WaterfallLegend: FC = () => (
  <ul class="legend">
    {Object.entries(SEGMENT_COLORS).map(([name, color]) => (
      <li>
        {/* An SVG fill, not a style attribute: the CSP allows no inline styles. */}
        <svg class="swatch" viewBox="0 0 12 12" aria-hidden="true">
          <rect width="12" height="12" fill={color} />
        </svg>
        {name}
      </li>
    ))}
  </ul>
);

/** Histogram of per-turn latencies. */
export const Histogram: FC<{ buckets: LatencyBucket[]; label: string }> = ({ buckets, label }) => {
  const w = 360;
  const h = 140;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const bw = (w - 20) / Math.max(1, buckets.length);
  const text = buckets
    .map((b) => `${b.fromMs}${b.toMs === null ? "+" : `–${b.toMs}`} ms: ${b.count}`)
    .join("; ");
  return (
    <svg class="chart histogram" viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${label}. ${text}`}>
      <title>{label}</title>
      {buckets.map((b, i) => {
        const bh = ((h - 36) * b.count) / max;
        return (
          <g>
            <rect
              x={10 + i * bw}
              y={h - 24 - bh}
              width={bw - 3}
              height={bh}
              fill={b.toMs !== null && b.toMs <= 1_600 ? "#2f6db5" : "#a35200"}
            >
              <title>{`${b.fromMs}${b.toMs === null ? "+" : `–${b.toMs}`} ms: ${b.count} turns`}</title>
            </rect>
            <text x={10 + i * bw + bw / 2} y={h - 10} font-size="9" text-anchor="middle" fill="#1a1a1a">
              {b.toMs === null ? `${b.fromMs / 1000}+` : `${b.toMs / 1000}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
};
