/**
 * Operator routes behind a bearer token: list a flow's cacheable lines with whether each is in R2,
 * render the missing ones into R2 with the configured TTS voice (progress as NDJSON), read a call's
 * audit events (what the simulator prints as the agent's words), and erase a call on request.
 * Refused with 403 unless ADMIN_TOKEN is set.
 */
import { zValidator } from "@hono/zod-validator";
import { Hono } from "hono";
import { stream } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { flowIds, getFlow } from "../call/flows";
import { providerPorts } from "../call/wiring";
import type { Flow } from "../flow/schema";
import { edgePortsFor } from "../lead/edge-ports";
import { AppError } from "../lib/errors";
import { eraseCall } from "../privacy/erasure";
import { eraseSubject } from "../privacy/subject-erasure";
import type { QaEvent } from "../qa/call-facts";
import { loadEvents } from "../qa/scorecard-store";
import { neonConnect } from "../store/neon";
import { cacheableLines } from "../tts-cache/lines";
import { encodeRenderEvent } from "../tts-cache/progress";
import { r2UtteranceStore } from "../tts-cache/r2-store";
import { groupByKey, renderMissing } from "../tts-cache/render";
import { requireConfigured } from "./require-config";

const FlowQuery = z.object({ flow: z.string().regex(/^[a-z0-9-]{1,64}$/, "flow must be a flow id") });

const flowQuery = zValidator("query", FlowQuery, (result) => {
  if (!result.success) throw new AppError(400, "invalid_query", "query parameter `flow` must be a flow id");
});

/** Compare secrets without leaking where they differ (or their lengths): compare their SHA-256 digests. */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [x, y] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  const xa = new Uint8Array(x);
  const ya = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < xa.length; i++) diff |= (xa[i] ?? 0) ^ (ya[i] ?? 0);
  return diff === 0;
}

function flowOr404(id: string): Flow {
  const flow = getFlow(id);
  if (!flow) throw new AppError(404, "flow_not_found", "No bundled flow with that id", { flows: flowIds() });
  return flow;
}

export const adminRoutes = new Hono<AppEnv>();

adminRoutes.use("/admin/*", requireConfigured("admin"));
adminRoutes.use("/admin/*", async (c, next) => {
  const token = c.get("config").adminToken;
  if (token === undefined) {
    return c.json(
      { error: { code: "admin_disabled", message: "Admin routes are disabled: set ADMIN_TOKEN" } },
      403,
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "");
  if (!match?.[1] || !(await sameSecret(match[1], token))) {
    return c.json({ error: { code: "unauthorized", message: "A valid bearer token is required" } }, 401, {
      "WWW-Authenticate": 'Bearer realm="admin"',
    });
  }
  await next();
});

/** `GET /admin/utterances?flow=ID`: every cacheable line of the flow and whether it is in R2. */
adminRoutes.get("/admin/utterances", flowQuery, async (c) => {
  const { flow: flowId } = c.req.valid("query");
  const config = c.get("config");
  const flow = flowOr404(flowId);
  const voice = { voiceId: config.elevenlabs.voiceId, modelId: config.elevenlabs.modelId };
  const lines = cacheableLines(flow);
  const groups = await groupByKey(lines, voice);
  const keyOf = new Map<string, string>();
  for (const g of groups) for (const id of g.lineIds) keyOf.set(id, g.key);
  const cachedKeys = new Set<string>();
  await Promise.all(
    groups.map(async (g) => {
      if ((await c.env.MEDIA.head(g.key)) !== null) cachedKeys.add(g.key);
    }),
  );
  const out = lines.map((l) => {
    const key = keyOf.get(l.lineId) ?? "";
    return { ...l, key, cached: cachedKeys.has(key) };
  });
  return c.json({
    flow: flowId,
    voice,
    lines: out,
    keys: groups.length,
    cachedKeys: cachedKeys.size,
  });
});

/** `POST /admin/utterances/render?flow=ID`: render missing lines into R2, progress as NDJSON lines. */
adminRoutes.post("/admin/utterances/render", flowQuery, (c) => {
  const { flow: flowId } = c.req.valid("query");
  const config = c.get("config");
  const log = c.get("log");
  const flow = flowOr404(flowId);
  const voice = { voiceId: config.elevenlabs.voiceId, modelId: config.elevenlabs.modelId };
  const lines = cacheableLines(flow);
  const { tts } = providerPorts(config, log);
  const store = r2UtteranceStore(c.env.MEDIA);
  const startedAtMs = Date.now();
  c.header("Content-Type", "application/x-ndjson; charset=utf-8");
  c.header("Cache-Control", "no-store");
  return stream(c, async (out) => {
    const abort = new AbortController();
    out.onAbort(() => abort.abort());
    const keys = (await groupByKey(lines, voice)).length;
    await out.write(encodeRenderEvent({ type: "start", flow: flowId, voice, lines: lines.length, keys }));
    // Progress callbacks are synchronous; writes are chained so lines keep their order.
    let writes = Promise.resolve();
    try {
      const summary = await renderMissing({
        lines,
        voice,
        tts,
        store,
        signal: abort.signal,
        onProgress: (p) => {
          writes = writes.then(() =>
            out.write(encodeRenderEvent({ type: "line", ...p })).then(() => undefined),
          );
        },
      });
      await writes;
      log.info("utterances rendered", { flow: flowId, ...summary });
      await out.write(encodeRenderEvent({ type: "done", ...summary, elapsedMs: Date.now() - startedAtMs }));
    } catch (error) {
      await writes.catch(() => undefined);
      const message = error instanceof Error ? error.message : String(error);
      log.error("utterance render failed", { flow: flowId, error: message });
      await out.write(encodeRenderEvent({ type: "error", message }));
    }
  });
});

const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
const PendingPayload = z.record(z.string(), z.unknown());

/**
 * `GET /admin/calls/:callSid/events`: the call's audit events in order, those already in Postgres and
 * those still in the call's outbox (a call that just ended has not flushed yet; without a database
 * nothing ever leaves the outbox).
 */
adminRoutes.get("/admin/calls/:callSid/events", async (c) => {
  const callSid = c.req.param("callSid");
  if (!CALL_SID.test(callSid)) throw new AppError(400, "bad_call_sid", "Path must contain a CallSid");
  const db = c.get("config").database;
  const bySeq = new Map<number, Omit<QaEvent, "id"> & { id?: string }>();
  if (db) {
    const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
    try {
      for (const e of (await loadEvents(session, [callSid])).get(callSid) ?? []) bySeq.set(e.seq, e);
    } finally {
      await release();
    }
  }
  const { pending } = await c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid)).inspect();
  for (const e of pending) {
    if (bySeq.has(e.seq)) continue;
    let payload: Record<string, unknown> = {};
    try {
      const parsed = PendingPayload.safeParse(JSON.parse(e.payloadJson));
      if (parsed.success) payload = parsed.data;
    } catch {
      // an unreadable payload is shown empty; the event itself still counts
    }
    bySeq.set(e.seq, { seq: e.seq, type: e.type, atMs: e.atMs, payload });
  }
  const events = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return c.json({ callSid, events, stored: db !== undefined });
});

/**
 * `POST /admin/calls/:callSid/erase`: erase a call's recording and transcript on request (the
 * erasure is itself an audit event). Consent and opt-out records are kept.
 */
adminRoutes.post("/admin/calls/:callSid/erase", async (c) => {
  const callSid = c.req.param("callSid");
  if (!CALL_SID.test(callSid)) throw new AppError(400, "bad_call_sid", "Path must end in a CallSid");
  const db = c.get("config").database;
  if (!db) throw new AppError(503, "no_database", "Erasure needs DATABASE_URL (the audit trail lives there)");
  const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
  try {
    const result = await eraseCall(
      { session, bucket: c.env.MEDIA, nowMs: Date.now() },
      callSid,
      "request",
      "admin",
    );
    return c.json(result);
  } finally {
    await release();
  }
});

const SubjectBody = z
  .object({
    phone: z
      .string()
      .regex(/^\+[1-9][0-9]{6,14}$/, "phone must be E.164")
      .optional(),
    email: z.string().email().max(254).optional(),
  })
  .refine((b) => b.phone !== undefined || b.email !== undefined, "phone or email is required");

/**
 * `POST /admin/subjects/erase` `{ phone?, email? }`: erase a data subject from every store (Postgres,
 * R2, each call's Durable Object and live state). Opt-out and consent proof stay as number hash +
 * time + source.
 */
adminRoutes.post(
  "/admin/subjects/erase",
  zValidator("json", SubjectBody, (result) => {
    if (!result.success)
      throw new AppError(400, "invalid_body", "body must be { phone?: E.164, email?: email }");
  }),
  async (c) => {
    const subject = c.req.valid("json");
    const db = c.get("config").database;
    if (!db)
      throw new AppError(503, "no_database", "Erasure needs DATABASE_URL (the audit trail lives there)");
    const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
    try {
      const result = await eraseSubject(
        {
          session,
          bucket: c.env.MEDIA,
          nowMs: Date.now(),
          forgetCall: (callSid) =>
            c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid)).erase(callSid),
          edge: edgePortsFor(c.get("config"), c.env),
        },
        subject,
      );
      c.get("log").info("data subject erased", {
        calls: result.calls.length,
        eventsScrubbed: result.eventsScrubbed,
      });
      return c.json({ calls: result.calls.length, eventsScrubbed: result.eventsScrubbed });
    } finally {
      await release();
    }
  },
);
