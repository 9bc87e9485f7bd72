/**
 * `npm run simulate -- --flow FLOW --script FILE [--url URL] [--json OUT] [--emulators FILE]`:
 * places a call against a running app exactly as Twilio would and prints what the caller observed.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LOCAL_CREDENTIALS } from "../../config/config";
import { type SimulationTarget, simulateCall } from "../simulator/node-call";
import { formatReport } from "../simulator/report";
import { parseCallScript } from "../simulator/script";

const USAGE = `usage: npm run simulate -- --script FILE [--flow FLOW] [--url URL] [--json OUT]
                             [--emulators STACK.json] [--fixtures DIR] [--speed N]

  --script     call script (JSON): { flow, vars, turns: [{ say, fixture?, dtmf?, ... }], ... }
  --flow       flow id (overrides the script's)
  --url        the app (default: workerUrl from .data/dev-stack.json, else http://127.0.0.1:8787)
  --emulators  a dev-stack JSON ({ emulators: { deepgram } }): register each turn's text with the
               Deepgram emulator (default when .data/dev-stack.json is present and --url is local)
  --fixtures   extra directory of <name>.ulaw speech fixtures (8 kHz µ-law)
  --speed      play the agent's audio N times faster than real time (default 1)
  --json       write the report as JSON to OUT
Against a deployed app set TWILIO_AUTH_TOKEN (and TWILIO_ACCOUNT_SID); every spoken turn needs a fixture.
The agent's words come from the call's audit events (GET /admin/calls/:sid/events): set ADMIN_TOKEN
(default for the local stack: the token \`npm run dev\` wrote); without it only the audio is shown.`;

interface DevStack {
  workerUrl?: string;
  emulators?: { deepgram?: string; twilio?: string };
  adminToken?: string;
}

async function readStack(path: string): Promise<DevStack | null> {
  if (!existsSync(path)) return null;
  return JSON.parse(await readFile(path, "utf8")) as DevStack;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      script: { type: "string" },
      flow: { type: "string" },
      url: { type: "string" },
      json: { type: "string" },
      emulators: { type: "string" },
      fixtures: { type: "string" },
      speed: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || !values.script) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const raw = JSON.parse(await readFile(values.script, "utf8")) as Record<string, unknown>;
  const script = parseCallScript(values.flow ? { ...raw, flow: values.flow } : raw, values.script);
  const devStack = await readStack(resolve(".data/dev-stack.json"));
  const explicit = values.emulators ? await readStack(resolve(values.emulators)) : null;
  if (values.emulators && !explicit) throw new Error(`--emulators: ${values.emulators} not found`);
  const baseUrl = values.url ?? devStack?.workerUrl ?? "http://127.0.0.1:8787";
  const sameAsDev =
    devStack?.workerUrl !== undefined && new URL(devStack.workerUrl).host === new URL(baseUrl).host;
  const stack = explicit ?? (sameAsDev ? devStack : null);
  const deepgram = stack?.emulators?.deepgram ?? null;
  if (!deepgram && !process.env.TWILIO_AUTH_TOKEN) {
    throw new Error("not a local stack (no .data/dev-stack.json for this URL): set TWILIO_AUTH_TOKEN");
  }
  const target: SimulationTarget = {
    baseUrl,
    authToken: deepgram ? LOCAL_CREDENTIALS.twilioAuthToken : (process.env.TWILIO_AUTH_TOKEN ?? ""),
    accountSid: process.env.TWILIO_ACCOUNT_SID ?? LOCAL_CREDENTIALS.twilioAccountSid,
    deepgramEmulatorUrl: deepgram,
    twilioEmulatorUrl: deepgram ? (stack?.emulators?.twilio ?? null) : null,
    adminToken: process.env.ADMIN_TOKEN ?? (sameAsDev ? (devStack?.adminToken ?? null) : null),
  };
  const speed = values.speed ? Number(values.speed) : 1;
  if (!Number.isFinite(speed) || speed < 1 || speed > 50) throw new Error("--speed must be 1..50");
  const report = await simulateCall({
    target,
    script,
    fixtureDirs: [
      ...(values.fixtures ? [resolve(values.fixtures)] : []),
      resolve("test/fixtures/audio"),
      resolve("test/fixtures/audio/replay"),
    ],
    playbackSpeed: speed,
    log: (line) => console.error(line),
  });
  console.log(formatReport(report));
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`wrote ${values.json}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
