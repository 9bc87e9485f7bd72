/** The dashboard's pages as Hono JSX: login, campaigns with rollups, the calls list, and one call. */
import type { FC } from "hono/jsx";
import type { Evidence, QaEvent } from "../qa/call-facts";
import type { CampaignRollup } from "../qa/rollups";
import type { Scorecard } from "../qa/scorecard";
import type { TranscriptEntry } from "../qa/transcript";
import { FlowGraph, Histogram, Waterfall, WaterfallLegend, type WaterfallTurn } from "./charts";
import type { FlowLayout } from "./flow-layout";
import { offset, Page, pct, ScoreBadge, when } from "./layout";
import type { CallFilters, CallRow } from "./queries";

/** The login form. */
export const LoginPage: FC<{ next: string; failed: boolean }> = ({ next, failed }) => (
  <Page title="Sign in" nav="none" signedIn={false}>
    <section class="card">
      {failed ? (
        <p class="notice" role="alert">
          That password is not right.
        </p>
      ) : null}
      <form method="post" action="/dashboard/login">
        <input type="hidden" name="next" value={next} />
        <p>
          <label for="password">Dashboard password</label>
          <br />
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            autofocus
          />
        </p>
        <button type="submit">Sign in</button>
      </form>
    </section>
  </Page>
);

/** Campaigns with their rollups. */
export const CampaignsPage: FC<{ rollups: CampaignRollup[]; days: number; unscored: number }> = ({
  rollups,
  days,
  unscored,
}) => (
  <Page title="Campaigns" nav="campaigns" signedIn={true}>
    <p>
      Last {days} days. Rates are per live-answered call. Ofcom: abandoned calls at most 3% of live-answered
      calls per campaign in any 24 hours.
    </p>
    {unscored > 0 ? (
      <p class="notice">{`${unscored} more calls are still unscored; reload to score the next batch.`}</p>
    ) : null}
    {rollups.length === 0 ? <p>No calls yet.</p> : null}
    {rollups.map((r) => {
      const name = r.campaignId ?? "(no campaign)";
      const headingId = `c-${(r.campaignId ?? "none").replace(/[^A-Za-z0-9_-]/g, "_")}`;
      const q = r.campaignId === null ? "" : `?campaign=${encodeURIComponent(r.campaignId)}`;
      return (
        <section class="card" aria-labelledby={headingId}>
          <h2 id={headingId}>
            <a href={`/dashboard/calls${q}`}>{name}</a>
          </h2>
          <div class="grid">
            <div class="stat">
              calls<b>{r.calls}</b>
            </div>
            <div class="stat">
              live answered<b>{r.liveAnswered}</b>
            </div>
            <div class="stat">
              booking rate<b>{pct(r.bookingRate)}</b>
            </div>
            <div class="stat">
              opt-out rate<b>{pct(r.optOutRate)}</b>
            </div>
            <div class="stat">
              abandoned<b class={r.ofcomBreach ? "fail" : "pass"}>{pct(r.abandonedRate)}</b>
              {r.worstWindow
                ? `worst 24 h: ${pct(r.worstWindow.rate)} (${r.worstWindow.abandoned}/${r.worstWindow.liveAnswered})${r.ofcomBreach ? " — over 3%" : ""}`
                : ""}
            </div>
            <div class="stat">
              average score<b>{r.averageScore ?? "–"}</b>
            </div>
            <div class="stat">
              latency p50 / p95<b>{`${r.latency.p50Ms ?? "–"} / ${r.latency.p95Ms ?? "–"} ms`}</b>
            </div>
          </div>
          <h3>Latency distribution ({r.latency.turns} turns)</h3>
          <Histogram buckets={r.latency.histogram} label={`Voice-to-voice latency of ${name}`} />
          <h3>Worst calls</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Score</th>
                  <th scope="col">Call</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Why</th>
                  <th scope="col" class="hide-sm">
                    Started
                  </th>
                </tr>
              </thead>
              <tbody>
                {r.worstCalls.map((c) => (
                  <tr class={c.unansweredTurns > 0 ? "unanswered" : undefined}>
                    <td>
                      <ScoreBadge score={c.score} />
                    </td>
                    <td>
                      <a href={`/dashboard/calls/${c.callSid}`}>{c.callSid}</a>
                    </td>
                    <td>{c.outcome}</td>
                    <td class={c.unansweredTurns > 0 ? "fail" : undefined}>{c.reason || "low score"}</td>
                    <td class="hide-sm">{when(c.startedAtMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      );
    })}
  </Page>
);

const dateValue = (ms: number | undefined) =>
  ms === undefined ? "" : new Date(ms).toISOString().slice(0, 10);

/** The calls list with its filters and a link to the next page. */
export const CallsPage: FC<{
  rows: CallRow[];
  filters: CallFilters;
  nextHref: string | undefined;
  choices: { campaigns: string[]; outcomes: string[] };
}> = ({ rows, filters, nextHref, choices }) => (
  <Page title="Calls" nav="calls" signedIn={true}>
    <form class="filters" method="get" action="/dashboard/calls" aria-label="Filter calls">
      <label>
        Campaign
        <select name="campaign">
          <option value="">any</option>
          {choices.campaigns.map((c) => (
            <option value={c} selected={filters.campaign === c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label>
        Outcome
        <select name="outcome">
          <option value="">any</option>
          {choices.outcomes.map((o) => (
            <option value={o} selected={filters.outcome === o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <label>
        Score from
        <input
          name="minScore"
          type="number"
          min="0"
          max="100"
          inputmode="numeric"
          value={filters.minScore ?? ""}
        />
      </label>
      <label>
        Score to
        <input
          name="maxScore"
          type="number"
          min="0"
          max="100"
          inputmode="numeric"
          value={filters.maxScore ?? ""}
        />
      </label>
      <label>
        From (UTC)
        <input name="from" type="date" value={dateValue(filters.fromMs)} />
      </label>
      <label>
        Before (UTC)
        <input name="to" type="date" value={dateValue(filters.toMs)} />
      </label>
      <button type="submit">Filter</button>
    </form>
    <div class="table-wrap">
      <table>
        <caption class="skip">Calls, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col">Call</th>
            <th scope="col">Outcome</th>
            <th scope="col">Campaign</th>
            <th scope="col" class="hide-sm">
              Started
            </th>
            <th scope="col" class="num hide-sm">
              Duration
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>
                <ScoreBadge score={r.score} />
              </td>
              <td>
                <a href={`/dashboard/calls/${r.callSid}`}>{r.callSid}</a>
              </td>
              <td>{r.outcome ?? "in progress"}</td>
              <td>{r.campaignId ?? "–"}</td>
              <td class="hide-sm">{when(r.startedAtMs)}</td>
              <td class="num hide-sm">
                {r.durationMs === null ? "–" : `${Math.round(r.durationMs / 1000)} s`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {rows.length === 0 ? <p>No calls match.</p> : null}
    {nextHref ? (
      <p>
        <a href={nextHref} rel="next">
          Older calls →
        </a>
      </p>
    ) : null}
  </Page>
);

const EvidenceList: FC<{ evidence: Evidence[] }> = ({ evidence }) => (
  <ul class="evidence">
    {evidence.map((e) => (
      <li>
        {e.seq !== undefined ? <a href={`#ev-${e.seq}`}>{`#${e.seq}`}</a> : null} {e.reason}
      </li>
    ))}
  </ul>
);

const TranscriptLine: FC<{ e: TranscriptEntry }> = ({ e }) => {
  const t = <span class="t">{offset(e.offsetMs)}</span>;
  switch (e.kind) {
    case "agent":
      return (
        <li class={e.cut ? "agent cut" : "agent"}>
          {t}
          <span class="who">Agent:</span>
          <span class="text">{e.text}</span>
          {e.cut ? <em> (cut by barge-in)</em> : null}
        </li>
      );
    case "caller":
      return (
        <li class="caller">
          {t}
          <span class="who">Caller:</span>
          <span class="text">{e.text}</span>
        </li>
      );
    case "dtmf":
      return (
        <li class="meta">
          {t}
          {`Caller pressed ${e.digit}${e.mapped ? "" : " (not a listed key)"}`}
        </li>
      );
    case "barge_in":
      return <li class="meta">{[t, `Caller talked over the agent; ${e.cut} line(s) cut`]}</li>;
    case "state":
      return <li class="meta">{[t, `→ ${e.to}${e.trigger ? ` (${e.trigger})` : ""}`]}</li>;
    case "question":
      return (
        <li class="meta">
          {[
            t,
            `Caller asked about the call (${e.kinds.join(", ")}); agent answered${e.reasked ? " and asked again" : ""}`,
          ]}
        </li>
      );
  }
};

/** One call: recording, scorecard, transcript, flow path, latency waterfall and the event timeline. */
export const CallPage: FC<{
  callSid: string;
  row: CallRow | undefined;
  card: Scorecard | undefined;
  transcript: TranscriptEntry[];
  layout: FlowLayout | undefined;
  mermaid: string | undefined;
  turns: WaterfallTurn[];
  budgetMs: number;
  events: QaEvent[];
  hasRecording: boolean;
}> = (p) => (
  <Page title={`Call ${p.callSid}`} nav="calls" signedIn={true}>
    <section class="card" aria-labelledby="h-summary">
      <h2 id="h-summary">Summary</h2>
      <p>
        Score <ScoreBadge score={p.card?.score ?? null} /> · outcome{" "}
        <strong>{p.card?.outcome ?? p.row?.outcome ?? "unknown"}</strong>
        {p.row?.campaignId ? ` · campaign ${p.row.campaignId}` : ""}
        {p.row ? ` · started ${when(p.row.startedAtMs)}` : ""}
      </p>
      <h3 id="h-recording">Recording</h3>
      {p.hasRecording ? (
        <audio
          id="recording"
          controls
          preload="metadata"
          src={`/dashboard/calls/${p.callSid}/recording`}
          aria-labelledby="h-recording"
        >
          <track
            kind="captions"
            srclang="en"
            label="Transcript"
            src={`/dashboard/calls/${p.callSid}/captions.vtt`}
            default
          />
          <a href={`/dashboard/calls/${p.callSid}/recording`}>Download the recording</a>
        </audio>
      ) : (
        <p>No recording stored for this call.</p>
      )}
    </section>
    <section class="card" aria-labelledby="h-score" id="scorecard">
      <h2 id="h-score">Scorecard</h2>
      {p.card ? (
        <ul>
          {p.card.criteria.map((c) => (
            <li data-criterion={c.id}>
              <span class={c.passed ? "pass" : "fail"}>{c.passed ? "Pass" : "Fail"}</span> {c.id} (weight{" "}
              {c.weight})
              <EvidenceList evidence={c.evidence} />
            </li>
          ))}
        </ul>
      ) : (
        <p>No events stored for this call yet.</p>
      )}
    </section>
    <section class="card" aria-labelledby="h-transcript">
      <h2 id="h-transcript">Transcript</h2>
      <p class="t">
        Agent lines are the flow's scripted text; struck-through lines were cut when the caller spoke over
        them.
      </p>
      <ol class="transcript" id="transcript">
        {p.transcript.map((e) => (
          <TranscriptLine e={e} />
        ))}
      </ol>
    </section>
    <section class="card" aria-labelledby="h-flow">
      <h2 id="h-flow">Path through the flow</h2>
      {p.layout ? (
        <div class="flow-wrap" id="flow-graph">
          <FlowGraph
            layout={p.layout}
            title={`States entered, in order: ${p.transcript.flatMap((e) => (e.kind === "state" ? [e.to] : [])).join(" → ")}`}
          />
        </div>
      ) : (
        <p>The call's flow is not bundled with this Worker.</p>
      )}
      {p.mermaid ? (
        <details>
          <summary>Mermaid source</summary>
          <pre>{p.mermaid}</pre>
        </details>
      ) : null}
    </section>
    <section class="card" aria-labelledby="h-latency">
      <h2 id="h-latency">Latency per turn</h2>
      {p.turns.length > 0 ? (
        <div id="waterfall">
          <Waterfall turns={p.turns} budgetMs={p.budgetMs} />
          <WaterfallLegend />
        </div>
      ) : (
        <p>No timed turns.</p>
      )}
    </section>
    <section class="card" aria-labelledby="h-events">
      <h2 id="h-events">Events</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">At</th>
              <th scope="col">Type</th>
              <th scope="col">Payload</th>
            </tr>
          </thead>
          <tbody>
            {p.events.map((e) => (
              <tr id={`ev-${e.seq}`}>
                <td class="num">{e.seq}</td>
                <td>{offset(e.atMs - (p.events[0]?.atMs ?? e.atMs))}</td>
                <td>{e.type}</td>
                <td>
                  <code>{JSON.stringify(e.payload).slice(0, 300)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  </Page>
);

/** A short page for refusals (dashboard disabled, no database). */
export const MessagePage: FC<{ title: string; message: string }> = ({ title, message }) => (
  <Page title={title} nav="none" signedIn={false}>
    <p class="notice">{message}</p>
  </Page>
);
