/** The dashboard's page shell: inline responsive CSS (allowed by its hash in the CSP), skip link, navigation and the logout form. */
import type { Child, FC } from "hono/jsx";

/** The whole stylesheet; the CSP names its SHA-256, so it is emitted verbatim and never varies per page. */
export const DASHBOARD_CSS = `
:root{--fg:#1a1a1a;--muted:#4a4a4a;--bg:#fafafa;--card:#fff;--line:#d0d0d0;--accent:#0b5394;--bad:#a30000;--good:#1b6e3a}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,audio:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:2}
header{background:#102a43;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;gap:12px;align-items:center}
header a{color:#fff;font-weight:600;text-decoration:none;padding:4px 6px}header a[aria-current=page]{text-decoration:underline}
header form{margin-left:auto}
main{padding:16px;max-width:1200px;margin:0 auto}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.4rem 0 .6rem}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;margin:0 0 16px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85rem;color:var(--muted)}.num{text-align:right;font-variant-numeric:tabular-nums}
.table-wrap{overflow-x:auto}
.pass{color:var(--good);font-weight:600}.fail{color:var(--bad);font-weight:600}
.score{display:inline-block;min-width:2.5em;padding:1px 6px;border-radius:4px;text-align:center;font-weight:700;color:#fff}
.score.hi{background:#1b6e3a}.score.mid{background:#8a5a00}.score.lo{background:#a30000}.score.none{background:#666}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
input,select,button{font:inherit;padding:6px 8px;border:1px solid #8a8a8a;border-radius:4px;background:#fff;color:var(--fg)}
button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}
.transcript{list-style:none;padding:0;margin:0}.transcript li{padding:6px 8px;margin:4px 0;border-radius:6px;max-width:52rem}
.transcript .agent{background:#e8f0fb}.transcript .caller{background:#eef7ee;margin-left:auto}.transcript .meta{background:none;color:var(--muted);font-size:.85rem}
.transcript .cut .text{text-decoration:line-through;text-decoration-thickness:1px}.who{font-weight:700;margin-right:6px}.t{color:var(--muted);font-size:.8rem;margin-right:6px}
.chart{width:100%;height:auto;max-height:480px;background:#fff}.chart.flow{min-width:640px}.chart.waterfall{max-width:680px}.chart.histogram{max-width:480px}.flow-wrap{overflow-x:auto}
.legend{display:flex;gap:12px;list-style:none;padding:0;margin:6px 0}.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px}.stat{background:#f1f4f8;border-radius:6px;padding:8px}.stat b{display:block;font-size:1.25rem}
.evidence{margin:.2rem 0 .6rem 1.2rem;padding:0;font-size:.9rem}
.notice{padding:10px;border-left:4px solid var(--bad);background:#fff3f3}
@media (max-width:640px){main{padding:10px}th,td{padding:5px}.hide-sm{display:none}header{gap:4px}}
`;

/** Which navigation entry is current. */
export type NavKey = "campaigns" | "calls" | "none";

/** A whole dashboard page. */
export const Page: FC<{ title: string; nav: NavKey; signedIn: boolean; children?: Child }> = ({
  title,
  nav,
  signedIn,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex" />
      <title>{`${title} · Voice agents`}</title>
      {/* Verbatim (no escaping) so the bytes match the hash in the CSP. */}
      <style dangerouslySetInnerHTML={{ __html: DASHBOARD_CSS }} />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <strong>Voice agents</strong>
        {signedIn ? (
          <>
            <nav aria-label="Dashboard">
              <a href="/dashboard" aria-current={nav === "campaigns" ? "page" : undefined}>
                Campaigns
              </a>
              <a href="/dashboard/calls" aria-current={nav === "calls" ? "page" : undefined}>
                Calls
              </a>
            </nav>
            <form method="post" action="/dashboard/logout">
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : null}
      </header>
      <main id="main">
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

/** A score badge with its number as text (colour is never the only signal). */
export const ScoreBadge: FC<{ score: number | null }> = ({ score }) => {
  const cls = score === null ? "none" : score >= 80 ? "hi" : score >= 50 ? "mid" : "lo";
  return <span class={`score ${cls}`}>{score === null ? "–" : String(score)}</span>;
};

/** `12.3%` */
export function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** A UTC timestamp for tables: `2026-05-19 09:00:00Z`. */
export function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `m:ss` offset into the call. */
export function offset(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
