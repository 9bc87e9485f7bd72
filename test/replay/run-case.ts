/**
 * Runs one conversation replay case inside workerd: the call simulator's Twilio peer over the real
 * signed webhook and media WebSocket (`SELF`), the Deepgram emulator scripted with the case's
 * words, faults injected into the emulators, and every expectation checked against the flow
 * snapshot, the Postgres audit trail, the emulators' state and what the caller's phone observed.
 */
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import type { CallSession } from "../../durable-objects/call-session";
import { getFlow } from "../../src/call/flows";
import { LOCAL_CREDENTIALS } from "../../src/config/config";
import { formatSlotForSpeech, isWithinWorkingHours } from "../../src/flow/time";
import { speechTimeZone } from "../../src/flow/transitions";
import type { AmdDelivery } from "../../src/tooling/simulator/amd-timing";
import { runConversation, type TurnRecord } from "../../src/tooling/simulator/conversation";
import { registerLocalCall } from "../../src/tooling/simulator/emulator-control";
import { MediaPeer } from "../../src/tooling/simulator/media-peer";
import { buildReport, formatReport } from "../../src/tooling/simulator/report";
import {
  caseVariant,
  type Expectation,
  type ReplayCase,
  scriptedUtterances,
} from "../../src/tooling/simulator/script";
import {
  answerCall,
  type FetchLike,
  postAmd,
  randomCallSid,
  streamSignature,
} from "../../src/tooling/simulator/twilio-call";
import { auditTrail } from "../support/audit";
import { fixture } from "../support/twilio-media-client";

const ORIGIN = "https://agent.example";
const selfFetch: FetchLike = (url, init) => SELF.fetch(url, init);

/** Emulator URLs and speech fixtures from the global setup. */
export interface ReplayEnv {
  urls: Record<string, string>;
  speech: Record<string, string>;
}

function stub(callSid: string): DurableObjectStub<CallSession> {
  return env.CALL_SESSION.get(env.CALL_SESSION.idFromName(callSid));
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.ok, `POST ${url}`).toBe(true);
  await res.body?.cancel();
}

async function getJson<T>(url: string): Promise<T> {
  return (await (await fetch(url)).json()) as T;
}

/** Whether the case's flow is open now (flows that route on working hours); true when it has none. */
export function openNow(flowId: string, nowMs: number): boolean {
  const flow = getFlow(flowId);
  if (!flow?.workingHours) return true;
  return isWithinWorkingHours(nowMs, flow.timeZone ?? "Europe/London", flow.workingHours);
}

async function injectFaults(c: ReplayCase, urls: Record<string, string>): Promise<void> {
  const f = c.faults;
  if (!f) return;
  for (const name of ["calcom", "hubspot", "slack"] as const) {
    for (const spec of f[name] ?? []) await postJson(`${urls[name]}/__emulator/faults`, spec);
  }
  if (f.openai) await postJson(`${urls.openai}/__emulator/faults`, f.openai);
  if (f.deepgram) await postJson(`${urls.deepgram}/__emulator/faults`, f.deepgram);
  if (f.elevenlabs) await postJson(`${urls.elevenlabs}/__emulator/faults`, f.elevenlabs);
}

/** Clear what {@link injectFaults} set (HTTP emulators: DELETE; voice emulators: empty faults). */
export async function clearFaults(c: ReplayCase, urls: Record<string, string>): Promise<void> {
  const f = c.faults;
  if (!f) return;
  for (const name of ["calcom", "hubspot", "slack"] as const) {
    if (f[name]) {
      const res = await fetch(`${urls[name]}/__emulator/faults`, { method: "DELETE" });
      await res.body?.cancel();
    }
  }
  if (f.openai) await postJson(`${urls.openai}/__emulator/faults`, {});
  if (f.deepgram) await postJson(`${urls.deepgram}/__emulator/faults`, {});
  if (f.elevenlabs) await postJson(`${urls.elevenlabs}/__emulator/faults`, {});
}

async function waitForState(callSid: string, state: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    const snap = (await stub(callSid).inspect()).record?.snapshot;
    last = `${snap?.state ?? "(none)"}/${snap?.phase ?? ""}`;
    if (snap?.state === state && (snap.phase === "listening" || snap.status === "ended")) return;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`expected to be listening in ${state}, still ${last}`);
}

async function waitForEnd(callSid: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await stub(callSid).inspect()).record?.snapshot.status === "ended") return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** The caller's transcript and the STT emulator's results for this call, for failure messages. */
export async function diagnose(
  renv: ReplayEnv,
  callSid: string,
  peer: MediaPeer,
  flow: string,
): Promise<string> {
  const dg = await getJson<{
    connections: { query: Record<string, string>; sent: unknown[]; closeCode?: number }[];
  }>(`${renv.urls.deepgram}/__emulator/requests`);
  const stt = dg.connections
    .filter((k) => k.query.tag === callSid)
    .map((k) => {
      const results = k.sent.map((m) => {
        const r = m as {
          type?: string;
          is_final?: boolean;
          speech_final?: boolean;
          channel?: { alternatives?: { transcript?: string }[] };
        };
        const flags = `${r.is_final ? "F" : ""}${r.speech_final ? "S" : ""}`;
        return `${r.type ?? "?"}${flags}:${r.channel?.alternatives?.[0]?.transcript ?? ""}`;
      });
      return `close ${k.closeCode ?? "open"}: ${results.join(" | ")}`;
    });
  const report = formatReport(buildReport(peer, [], { callSid, flow, target: ORIGIN }));
  return `${report}\nstt connections:\n${stt.join("\n") || "(none)"}`;
}

/** What one run produced, for the assertions and for failure messages. */
export interface CaseRun {
  callSid: string;
  peer: MediaPeer;
  turns: TurnRecord[];
  expect: Expectation;
  /** Scheduled AMD callbacks (case `amdAt` and turn schedules), in firing order. */
  amd: AmdDelivery[];
}

/** Place the case's call and drive it to the end. */
export async function runCase(c: ReplayCase, renv: ReplayEnv): Promise<CaseRun> {
  const { turns, expect: expectation } = caseVariant(c, openNow(c.flow, Date.now()));
  const callSid = randomCallSid();
  await registerLocalCall(renv.urls, {
    sid: callSid,
    from: c.from,
    to: c.to,
    utterances: scriptedUtterances(turns),
  });
  await injectFaults(c, renv.urls);
  try {
    const stream = await answerCall(selfFetch, {
      baseUrl: ORIGIN,
      authToken: LOCAL_CREDENTIALS.twilioAuthToken,
      accountSid: LOCAL_CREDENTIALS.twilioAccountSid,
      callSid,
      flow: c.flow,
      vars: c.vars,
      from: c.from,
      to: c.to,
      direction: c.direction ?? (c.flow.startsWith("inbound") ? "inbound" : "outbound-api"),
    });
    const res = await SELF.fetch(stream.url.replace(/^wss:/, "https:"), {
      headers: {
        upgrade: "websocket",
        "x-twilio-signature": await streamSignature(LOCAL_CREDENTIALS.twilioAuthToken, stream.url),
      },
    });
    const ws = res.webSocket;
    if (res.status !== 101 || !ws) throw new Error(`media upgrade answered ${res.status}`);
    ws.accept();
    const realTime = c.playbackSpeed < 5;
    const peer = new MediaPeer(
      {
        send: (t) => ws.send(t),
        close: (code, reason) => ws.close(code, reason),
      },
      {
        callSid,
        accountSid: LOCAL_CREDENTIALS.twilioAccountSid,
        playbackSpeed: c.playbackSpeed,
        framesPerTick: realTime ? 1 : 8,
        idleFill: false,
      },
    );
    ws.addEventListener("message", (ev) => peer.receive(String(ev.data)));
    ws.addEventListener("close", (ev) => peer.onClose(ev.code, ev.reason));
    peer.start(stream.parameters);
    let amd: AmdDelivery[] = [];
    const records = await runConversation(
      peer,
      turns,
      {
        fixture: (name) => fixture(renv.speech[name]),
        amd: (answeredBy) =>
          postAmd(
            selfFetch,
            ORIGIN,
            LOCAL_CREDENTIALS.twilioAuthToken,
            callSid,
            LOCAL_CREDENTIALS.twilioAccountSid,
            answeredBy,
          ),
        beforeTurn: async (turn) => {
          if (turn.decision && turn.bargeInAfterMs === undefined)
            await waitForState(callSid, turn.decision.state);
        },
      },
      {
        agentSettleMs: realTime ? 500 : 150,
        agentWaitTimeoutMs: 8_000,
        endWaitMs: 0,
        synthesizeSpeech: true,
        amdAt: c.amdAt,
        seed: c.name,
        onAmdDeliveries: (d) => {
          amd = d;
        },
      },
    ).catch(async (err: unknown) => {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}\n${await diagnose(renv, callSid, peer, c.flow)}`,
      );
    });
    if (expectation.ended) await waitForEnd(callSid, 12_000);
    peer.dispose();
    if (!peer.closed) ws.close(1000, "replay done");
    return { callSid, peer, turns: records, expect: expectation, amd };
  } finally {
    await clearFaults(c, renv.urls);
  }
}

function spokenPlaceholder(text: string, flowId: string, vars: Record<string, string>): string {
  const flow = getFlow(flowId);
  return text.replace(/\{\{([a-z0-9_]+)\}\}/g, (_, name: string) => {
    const v = vars[name] ?? "";
    if (flow?.variables[name]?.type === "instant" && v) {
      return formatSlotForSpeech(v, flow ? speechTimeZone(flow, vars) : "Europe/London", Date.now());
    }
    return v;
  });
}

/** Check every expectation of the case against what happened. */
export async function checkCase(c: ReplayCase, run: CaseRun, renv: ReplayEnv): Promise<void> {
  const { callSid, peer, expect: x } = run;
  const { record } = await stub(callSid).inspect();
  const snap = record?.snapshot;
  const where = `${c.name} (${callSid}) path ${snap?.path.join(">") ?? "none"}`;
  expect(snap, `${where}: no call record`).toBeDefined();
  if (!snap) return;
  if (x.path) expect(snap.path, where).toEqual(x.path);
  if (x.pathStartsWith) expect(snap.path.slice(0, x.pathStartsWith.length), where).toEqual(x.pathStartsWith);
  for (const s of x.pathIncludes ?? []) expect(snap.path, where).toContain(s);
  for (const s of x.pathExcludes ?? []) expect(snap.path, where).not.toContain(s);
  expect(snap.status === "ended", `${where}: ended`).toBe(x.ended);
  if (x.endReason) expect(snap.endReason, where).toBe(x.endReason);
  for (const [name, want] of Object.entries(x.captures)) {
    const got = snap.vars[name];
    if (want === null) expect(got, `${where}: capture ${name}`).toBeUndefined();
    else if (typeof want === "string") expect(got, `${where}: capture ${name}`).toBe(want);
    else expect(got, `${where}: capture ${name}`).toBeTruthy();
  }
  if (x.booking !== undefined || x.bookedSlot) {
    const cal = await getJson<{ bookings: { start: string; metadata: { callSid?: string } }[] }>(
      `${renv.urls.calcom}/__emulator/state`,
    );
    const ours = cal.bookings.filter((b) => b.metadata.callSid === callSid);
    if (x.booking !== undefined) expect(ours.length, `${where}: bookings`).toBe(x.booking ? 1 : 0);
    if (x.bookedSlot) {
      expect(Date.parse(ours[0]?.start ?? ""), `${where}: booked slot`).toBe(
        Date.parse(snap.vars[x.bookedSlot] ?? "x"),
      );
    }
  }
  const trail = await auditTrail(callSid);
  const types = trail.map((e) => e.type);
  if (x.optOut !== undefined) expect(types.includes("opt_out.recorded"), `${where}: opt-out`).toBe(x.optOut);
  for (const t of x.events) expect(types, `${where}: events`).toContain(t);
  for (const t of x.absentEvents) expect(types, `${where}: events`).not.toContain(t);
  if (x.slack) {
    const { messages } = await getJson<{ messages: { text: string }[] }>(
      `${renv.urls.slack}/__emulator/state`,
    );
    const matches = (needles: string[]) =>
      messages.some((m) => needles.every((n) => m.text.includes(spokenPlaceholder(n, c.flow, snap.vars))));
    if (x.slack.contains) expect(matches(x.slack.contains), `${where}: slack ${x.slack.contains}`).toBe(true);
    if (x.slack.absent) expect(matches(x.slack.absent), `${where}: no slack ${x.slack.absent}`).toBe(false);
  }
  expect(peer.agentBytes > 0, `${where}: agent audio`).toBe(x.agentAudio);
  if (x.amdLanded) {
    const landed = run.amd.map((d) =>
      d.sentAtMs === null ? "not_sent" : d.agentPlaying ? "agent_speaking" : "agent_silent",
    );
    expect(landed, `${where}: when the AMD callbacks landed`).toEqual(x.amdLanded);
  }
  if (x.clears?.min !== undefined)
    expect(peer.clears, `${where}: clears`).toBeGreaterThanOrEqual(x.clears.min);
  if (x.clears?.max !== undefined) expect(peer.clears, `${where}: clears`).toBeLessThanOrEqual(x.clears.max);
  if (x.spokenContains.length > 0) {
    const { requests } = await getJson<{ requests: { messages: unknown[] }[] }>(
      `${renv.urls.elevenlabs}/__emulator/requests`,
    );
    const texts = requests.map((r) =>
      r.messages
        .map((m) => (typeof m === "object" && m !== null ? (m as { text?: unknown }).text : undefined))
        .filter((t): t is string => typeof t === "string")
        .join(""),
    );
    const marker = c.vars.first_name ?? "";
    const ours = texts.filter((t) => marker !== "" && t.includes(marker)).join(" ");
    for (const want of x.spokenContains) {
      expect(ours, `${where}: agent said`).toContain(spokenPlaceholder(want, c.flow, snap.vars));
    }
  }
}
