/**
 * CLI: pre-render a flow's deterministic lines into R2 through a running app's admin endpoint
 * (`npm run tts:cache -- FLOW [--url URL] [--token TOKEN] [--list]`), printing progress per line and a
 * summary. Defaults to the local `npm run dev` Worker and its admin token.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { decodeRenderEvent, formatRenderEvent, type RenderEvent } from "../../tts-cache/progress";

const USAGE = `usage: npm run tts:cache -- FLOW [--url http://127.0.0.1:8787] [--token TOKEN] [--list]
  FLOW      flow id (a file in src/flows without .json), e.g. outbound-booking
  --url     the app: local \`npm run dev\` (default) or a deployed Worker, e.g. https://voice.example.com
  --token   ADMIN_TOKEN of that app (default: $ADMIN_TOKEN, then the running dev stack, then .dev.vars)
  --list    only list the flow's cacheable lines and whether each is cached`;

const DEFAULT_URL = "http://127.0.0.1:8787";
/** Written by `npm run dev` (src/tooling/dev/dev.ts STACK_FILE) while it runs. */
const DEV_STACK_FILE = ".data/dev-stack.json";

/** What the command line asks for. */
export interface TtsCacheArgs {
  flow: string;
  url: string | undefined;
  token: string | undefined;
  list: boolean;
}

/** Parse argv (without node and script); throws with a usage message on bad input. */
export function parseTtsCacheArgs(argv: string[]): TtsCacheArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [flow, ...rest] = positionals;
  if (values.help || flow === undefined || rest.length > 0) throw new Error(USAGE);
  if (!/^[a-z0-9-]{1,64}$/.test(flow)) throw new Error(`not a flow id: ${flow}\n${USAGE}`);
  return { flow, url: values.url, token: values.token, list: values.list };
}

function devStack(): { workerUrl?: string; adminToken?: string } {
  if (!existsSync(DEV_STACK_FILE)) return {};
  try {
    const raw: unknown = JSON.parse(readFileSync(DEV_STACK_FILE, "utf8"));
    if (typeof raw !== "object" || raw === null) return {};
    const { workerUrl, adminToken } = raw as Record<string, unknown>;
    return {
      ...(typeof workerUrl === "string" ? { workerUrl } : {}),
      ...(typeof adminToken === "string" ? { adminToken } : {}),
    };
  } catch {
    return {};
  }
}

function devVarsToken(): string | undefined {
  if (!existsSync(".dev.vars")) return undefined;
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((l) => l.startsWith("ADMIN_TOKEN="));
  const value = line?.slice("ADMIN_TOKEN=".length).trim().replace(/^"|"$/g, "");
  return value ? value : undefined;
}

/** The app URL and token to use: flags, then environment, then the running dev stack, then `.dev.vars`. */
export function resolveTarget(args: TtsCacheArgs): { url: string; token: string | undefined } {
  const stack = devStack();
  const url = (args.url ?? stack.workerUrl ?? DEFAULT_URL).replace(/\/$/, "");
  const local = args.url === undefined || args.url.replace(/\/$/, "") === stack.workerUrl;
  const token =
    args.token ?? process.env.ADMIN_TOKEN ?? (local ? (stack.adminToken ?? devVarsToken()) : undefined);
  return { url, token };
}

async function errorText(res: Response): Promise<string> {
  const body = await res.text();
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    if (parsed.error?.message) return `${res.status} ${parsed.error.code ?? ""}: ${parsed.error.message}`;
  } catch {
    // not JSON: show the start of the body
  }
  return `${res.status} ${body.slice(0, 200)}`;
}

async function list(url: string, headers: Record<string, string>, flow: string): Promise<number> {
  const res = await fetch(`${url}/admin/utterances?flow=${encodeURIComponent(flow)}`, { headers });
  if (!res.ok) {
    console.error(`tts:cache: ${await errorText(res)}`);
    return 1;
  }
  const body = (await res.json()) as {
    lines: { lineId: string; text: string; cached: boolean }[];
    keys: number;
    cachedKeys: number;
  };
  for (const l of body.lines)
    console.log(`${l.cached ? "cached " : "missing"}  ${l.lineId.padEnd(28)} ${l.text}`);
  console.log(`${body.cachedKeys}/${body.keys} distinct lines cached`);
  return 0;
}

async function render(url: string, headers: Record<string, string>, flow: string): Promise<number> {
  const res = await fetch(`${url}/admin/utterances/render?flow=${encodeURIComponent(flow)}`, {
    method: "POST",
    headers,
  });
  if (!res.ok || res.body === null) {
    console.error(`tts:cache: ${await errorText(res)}`);
    return 1;
  }
  const decoder = new TextDecoder();
  let buffered = "";
  let last: RenderEvent | undefined;
  const handle = (line: string) => {
    const event = decodeRenderEvent(line);
    if (event === null) return;
    if (event instanceof Error) {
      console.error(`tts:cache: ${event.message}`);
      return;
    }
    last = event;
    (event.type === "error" || (event.type === "line" && event.status === "failed")
      ? console.error
      : console.log)(formatRenderEvent(event));
  };
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true });
    const parts = buffered.split("\n");
    buffered = parts.pop() ?? "";
    for (const p of parts) handle(p);
  }
  handle(buffered + decoder.decode());
  if (last?.type !== "done") {
    console.error(
      "tts:cache: the stream ended before the summary (the app stopped or the connection dropped)",
    );
    return 1;
  }
  return last.failed === 0 && !last.aborted ? 0 : 1;
}

/** Run the command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let args: TtsCacheArgs;
  try {
    args = parseTtsCacheArgs(argv);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  const { url, token } = resolveTarget(args);
  if (token === undefined) {
    console.error(`tts:cache: no admin token for ${url}: pass --token or set ADMIN_TOKEN`);
    return 2;
  }
  const headers = { authorization: `Bearer ${token}` };
  try {
    return args.list ? await list(url, headers, args.flow) : await render(url, headers, args.flow);
  } catch (err) {
    console.error(`tts:cache: cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
