/**
 * CallSession: one Durable Object per call (`idFromName(CallSid)`). It terminates Twilio's media
 * WebSocket itself, runs the call engine next to the caller, keeps the flow snapshot and the event
 * outbox in its SQLite storage (written together on every transition), and flushes the outbox to
 * Postgres from its alarm, off the hot path.
 */

import { DurableObject } from "cloudflare:workers";
import fvadWasm from "@echogarden/fvad-wasm/fvad.wasm";
import {
  DEFAULT_VAD_CONFIG,
  type FrameClassifier,
  instantiateWebRtcVad,
  type WebRtcVadRuntime,
} from "../src/audio";
import { callEndedEvent, closeStoredCall } from "../src/call/call-status";
import { carrierVadConfig } from "../src/call/carrier-vad";
import { DurableRecording } from "../src/call/durable-recording";
import { CallEngine } from "../src/call/engine";
import { getFlow } from "../src/call/flows";
import { liveCallState } from "../src/call/live-state";
import type { CallIO, CallMeta, CallRecord } from "../src/call/ports";
import { recordingAllowed } from "../src/call/recorder";
import { RECORDING_STORED_EVENT } from "../src/call/recording-store";
import { createTimers } from "../src/call/timers";
import { type InboundFrame, parseInboundFrame, type StartFrame } from "../src/call/twilio-frames";
import { actionRunner, providerPorts, r2UtteranceCache, twilioClient } from "../src/call/wiring";
import type { AppConfig } from "../src/config/config";
import { configFor } from "../src/config/context";
import { edgePortsFor } from "../src/lead/edge-ports";
import { createLogger, errorFields, type Logger } from "../src/lib/log";
import { transcriptObjectKey } from "../src/privacy/erasure";
import { loadEvents, scoreAndStore } from "../src/qa/scorecard-store";
import { assembleTranscript } from "../src/qa/transcript";
import { EVENT_TYPES } from "../src/store/call-event";
import { type CallState, type CallStateMirror, callStateTtlSeconds } from "../src/store/call-state";
import { DurableObjectCallStateMirror } from "../src/store/do-state";
import { PostgresEventStore } from "../src/store/event-store";
import { neonConnect } from "../src/store/neon";
import { type CallEventInput, Outbox } from "../src/store/outbox";
import { flushOutbox } from "../src/store/outbox-flush";
import { createUpstashClient, UpstashCallStateMirror } from "../src/store/upstash-state";
import { verifyStreamToken } from "../src/telephony/stream-token";

/** What the media socket carries across hibernation. */
interface SocketAttachment {
  pathCallSid: string;
  started: boolean;
  verified?: boolean;
  streamSid?: string;
}

/** An outbox event as `inspect()` reports it (payload as JSON, so it crosses RPC). */
export interface InspectedEvent {
  type: string;
  seq: number;
  atMs: number;
  payloadJson: string;
}

const hotUtterances = new Map<string, Uint8Array>();
let webRtcVad: Promise<WebRtcVadRuntime> | null = null;

/** The WebRTC VAD (WASM), instantiated once per isolate; the energy VAD is the fallback. */
async function vadClassifier(log: Logger): Promise<FrameClassifier | undefined> {
  if (DEFAULT_VAD_CONFIG.vad.detector !== "webrtc") return undefined;
  try {
    webRtcVad ??= instantiateWebRtcVad(fvadWasm);
    return (await webRtcVad).createClassifier(DEFAULT_VAD_CONFIG.vad.webrtcMode);
  } catch (err) {
    log.warn("webrtc vad unavailable; using the energy vad", {
      error: errorFields(err),
    });
    return undefined;
  }
}

export class CallSession extends DurableObject<Env> {
  private readonly config: AppConfig;
  private readonly log: Logger;
  private outbox: Outbox;
  private engine: CallEngine | null = null;
  private socket: WebSocket | null = null;
  private readonly timers = createTimers();
  private alarmArmed = false;
  private pendingAmd: string | null = null;
  private waking: Promise<CallEngine | null> | null = null;
  private readonly mirror: CallStateMirror;
  private mirrorChain: Promise<void> = Promise.resolve();
  private lastMirrored = "";
  /** This call's recording in progress (only when the consent rule allows it); durable across evictions. */
  private recording: DurableRecording | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.config = configFor(env);
    this.log = createLogger({ component: "call-session" }, this.config.logLevel);
    this.outbox = new Outbox(ctx.storage.sql, { log: this.log });
    const ttlSeconds = callStateTtlSeconds(this.config);
    const redis = this.config.redis;
    this.mirror =
      redis.url && redis.token
        ? new UpstashCallStateMirror(createUpstashClient({ url: redis.url, token: redis.token }), ttlSeconds)
        : new DurableObjectCallStateMirror(ctx.storage, ttlSeconds);
    this.initTables();
  }

  private initTables(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS call_record (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    );
    DurableRecording.init(this.ctx.storage);
    sql.exec(
      "CREATE TABLE IF NOT EXISTS used_stream_tokens (id TEXT PRIMARY KEY, expires_at_ms INTEGER NOT NULL)",
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS erased_tombstone (id INTEGER PRIMARY KEY CHECK (id = 1), at_ms INTEGER NOT NULL)",
    );
  }

  /** Whether this call was erased: nothing is started, persisted or flushed any more. */
  private erased(): boolean {
    return this.ctx.storage.sql.exec("SELECT 1 FROM erased_tombstone WHERE id = 1").toArray().length > 0;
  }

  /**
   * Erasure of this call's data subject: a tombstone first (so no later start, outbox write or flush
   * brings anything back), the call stopped, its live-state key deleted, then every stored byte
   * (`deleteAll`) and the tombstone written again on the empty storage.
   */
  async erase(callSid: string): Promise<void> {
    const write = () => {
      this.ctx.storage.sql.exec(
        "INSERT INTO erased_tombstone (id, at_ms) VALUES (1, ?) ON CONFLICT(id) DO NOTHING",
        Date.now(),
      );
    };
    write();
    this.recording = null;
    const engine = this.engine;
    this.engine = null;
    const socket = this.socket;
    this.socket = null;
    if (engine) await engine.shutdown().catch(() => undefined);
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "call erased");
    socket?.close(1000, "call erased");
    await this.mirrorChain.catch(() => undefined);
    await this.mirror.delete(callSid).catch((err: unknown) => {
      this.log.warn("live call state not deleted", {
        error: errorFields(err),
      });
    });
    await this.ctx.storage.deleteAlarm();
    this.alarmArmed = false;
    await this.ctx.storage.deleteAll();
    this.initTables();
    this.outbox = new Outbox(this.ctx.storage.sql, { log: this.log });
    write();
  }

  /**
   * Twilio's media WebSocket, already signature-checked by the Worker route. Accepted through the
   * hibernation API: if the object is evicted mid-call (deploy, restart) the socket survives and the
   * next frame wakes a fresh instance that resumes the call from storage.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "upgrade_required", message: "Expected a WebSocket upgrade" } },
        { status: 426 },
      );
    }
    const pathCallSid = new URL(request.url).pathname.split("/").pop() ?? "";
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ pathCallSid, started: false } satisfies SocketAttachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const parsed = parseInboundFrame(message);
    if (!parsed.ok) {
      this.log.warn("media frame dropped", { reason: parsed.reason });
      return;
    }
    const frame = parsed.frame;
    // The hot path: this instance already runs the call on this (verified) socket.
    if (this.socket === ws && this.engine && frame.event !== "start" && frame.event !== "connected") {
      await this.dispatch(this.engine, frame);
      return;
    }
    const attachment = ws.deserializeAttachment() as SocketAttachment;
    if (frame.event === "start") {
      if (attachment.started) return;
      ws.serializeAttachment({
        ...attachment,
        started: true,
        streamSid: frame.streamSid,
      } satisfies SocketAttachment);
      try {
        await this.start(ws, attachment.pathCallSid, frame);
      } catch (err) {
        this.log.error("call start failed", { error: errorFields(err) });
        ws.close(1011, "call could not start");
      }
      return;
    }
    if (frame.event === "connected") return;
    // Audio before a valid start (token checked) is never processed.
    if (!attachment.verified) return;
    const engine = this.socket === ws && this.engine ? this.engine : await this.wake(ws, attachment);
    if (engine) await this.dispatch(engine, frame);
  }

  private async dispatch(engine: CallEngine, frame: InboundFrame): Promise<void> {
    switch (frame.event) {
      case "media":
        engine.onMedia(frame.media.payload, frame.media.timestamp);
        return;
      case "mark":
        engine.onMark(frame.mark.name);
        return;
      case "dtmf":
        engine.onDtmf(frame.dtmf.digit);
        return;
      case "stop":
        await engine.hangupReceived();
        await this.storeRecording();
        return;
    }
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    if (this.socket !== ws) return;
    this.socket = null;
    const engine = this.engine;
    this.engine = null;
    // The socket went away without `stop` (network): state is in storage; a reconnect resumes.
    if (engine) await engine.shutdown();
    await this.storeRecording(); // recording: an abrupt end still stores what it had
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws);
  }

  /** A verified socket whose instance was evicted: rebuild the engine from storage and carry on. */
  private async wake(ws: WebSocket, attachment: SocketAttachment): Promise<CallEngine | null> {
    this.waking ??= (async () => {
      const record = this.loadRecord();
      // An ended flow whose hang-up or transfer was not yet taken is woken to finish it.
      if (!record || (record.snapshot.status === "ended" && record.progress.control?.done !== false))
        return null;
      this.log.info("call session woke after eviction", {
        callSid: record.callSid,
        state: record.snapshot.state,
      });
      await this.run(
        ws,
        { ...record.meta, streamSid: attachment.streamSid ?? record.meta.streamSid },
        record,
        {},
        false,
        false,
      );
      return this.engine;
    })().finally(() => {
      this.waking = null;
    });
    return this.waking;
  }

  private async start(ws: WebSocket, pathCallSid: string, frame: StartFrame): Promise<void> {
    if (this.erased()) {
      ws.close(1008, "call erased");
      return;
    }
    const callSid = frame.start.callSid;
    const params = frame.start.customParameters;
    const nowMs = Date.now();
    const token = await verifyStreamToken(this.config.streamTokenSecret, callSid, params, nowMs);
    const refusal = !token.ok
      ? token.reason
      : callSid !== pathCallSid
        ? "call_sid_mismatch"
        : !this.consumeStreamToken(token.tokenId, token.expiresAtMs, nowMs)
          ? "token_replayed"
          : null;
    if (refusal) {
      this.log.warn("media stream refused", { callSid, reason: refusal });
      ws.close(1008, "invalid stream token");
      return;
    }
    const stored = this.loadRecord();
    const resume = stored && stored.callSid === callSid ? stored : null;
    const reopenForCallback = params.resume === "callback";
    if (resume?.snapshot.status === "ended" && !reopenForCallback) {
      ws.close(1000, "call already ended");
      return;
    }
    const meta: CallMeta = resume
      ? { ...resume.meta, streamSid: frame.streamSid }
      : {
          callSid,
          streamSid: frame.streamSid,
          flowId: params.flow ?? this.config.defaultFlow,
          direction: params.direction ?? "inbound",
          from: params.from ?? "",
          to: params.to ?? "",
          campaign: params.campaign ?? null,
          startedAtMs: Date.now(),
        };
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) if (k.startsWith("var_")) vars[k.slice(4)] = v;
    // A lead's call carries only its lead id (Twilio logs the answer URL): the lead's details are
    // loaded here, server-side, from its campaign, or else from the edge store (web leads).
    if (!resume && vars.lead_id) Object.assign(vars, await this.leadVars(meta.campaign, vars.lead_id));
    ws.serializeAttachment({
      ...(ws.deserializeAttachment() as SocketAttachment),
      verified: true,
    } satisfies SocketAttachment);
    await this.run(ws, meta, resume, vars, reopenForCallback, true);
  }

  /** Build the engine for this socket and start (or resume) the call. */
  private async run(
    ws: WebSocket,
    meta: CallMeta,
    resume: CallRecord | null,
    vars: Record<string, string>,
    reopenForCallback = false,
    newStream = true,
  ) {
    const flow = getFlow(meta.flowId);
    if (!flow) {
      this.log.error("unknown flow", { flowId: meta.flowId });
      ws.close(1011, "unknown flow");
      return;
    }
    const previous = this.engine;
    if (previous) await previous.shutdown().catch(() => undefined);
    const classifier = await vadClassifier(this.log);
    this.socket = ws;
    // Recording: a fresh call whose flow disclosed recording (consent rule: src/call/recorder.ts); a
    // resumed call carries on with the recording an evicted instance was making (kept in storage).
    if (!this.recording) {
      const clock = () => Date.now();
      if (resume)
        this.recording = DurableRecording.resume(this.ctx.storage, this.env.MEDIA, clock, newStream);
      else if (recordingAllowed(flow) && !DurableRecording.exists(this.ctx.storage))
        this.recording = DurableRecording.start(
          this.ctx.storage,
          this.env.MEDIA,
          meta.callSid,
          meta.startedAtMs,
          clock,
        );
    }
    const recorder = this.recording?.callSid === meta.callSid ? this.recording : undefined;
    const engine = new CallEngine(
      {
        flow,
        meta,
        vars,
        resume: resume?.snapshot ?? null,
        reopenAfterTransfer: reopenForCallback,
        ...(resume ? { resumeProgress: resume.progress } : {}),
        vadConfig: carrierVadConfig(
          DEFAULT_VAD_CONFIG,
          this.config.carrierVad,
          meta.direction.startsWith("outbound") ? meta.to : meta.from,
        ),
        models: { fast: this.config.openai.model, reasoning: this.config.openai.reasoningModel },
        llmTimeoutMs: this.config.openai.timeoutMs,
        maxCallDurationMs: this.config.maxCallDurationMs,
        ...(classifier ? { classifier } : {}),
        persona: "You are a polite UK phone assistant. Keep any reply under 30 words.",
        ...(recorder ? { recorder } : {}),
      },
      this.io(ws, meta),
    );
    this.engine = engine;
    engine.finished.then(() => {
      if (this.socket === ws) ws.close(1000, "call ended");
      this.ctx.waitUntil(this.reportCampaignOutcome(meta, engine));
      this.ctx.waitUntil(this.storeRecording());
    });
    await engine.begin();
    if (this.pendingAmd) {
      engine.onAmd(this.pendingAmd);
      this.pendingAmd = null;
    }
  }

  private io(ws: WebSocket, meta: CallMeta): CallIO {
    const config = this.config;
    const log = this.log.child({ callSid: meta.callSid });
    const ports = providerPorts(config);
    const twilio = twilioClient(config);
    const counterpart = meta.direction.startsWith("outbound") ? meta.to : meta.from;
    return {
      ...ports,
      send: (frame) => {
        if (this.socket !== ws) return;
        try {
          ws.send(JSON.stringify(frame));
        } catch {
          // The socket closed under us; the close handler shuts the engine down.
        }
      },
      closeMedia: (code, reason) => ws.close(code, reason),
      persist: (record, events) => this.persist(record, events),
      runAction: actionRunner(
        config,
        {
          callSid: meta.callSid,
          calleePhone: counterpart,
          ourNumber: meta.direction.startsWith("outbound") ? meta.from : meta.to,
          flowId: meta.flowId,
          campaign: meta.campaign,
          captured: () => (this.engine ? { ...this.engine.state.vars } : {}),
          log,
        },
        {
          add: async (entry) => {
            // Durable first: the opt-out is in the outbox (and so in Postgres' suppressions) whatever
            // happens next; then the do-not-call set the dialer checks at dial time.
            this.persist(null, [
              {
                callSid: meta.callSid,
                atMs: Date.now(),
                type: EVENT_TYPES.optOutRecorded,
                payload: { phone: entry.phone, source: entry.source, reason: entry.reason },
              },
            ]);
            try {
              await edgePortsFor(config, this.env).suppressions.add(entry.phone, entry.source);
            } catch (err) {
              log.error("do-not-call set update failed; opt-out is still recorded", {
                error: errorFields(err),
              });
            }
          },
        },
      ),
      hangup: async () => {
        await twilio.updateCall(meta.callSid, { status: "completed" });
      },
      // The `transfer_to_human` action already moved the caller into the warm-transfer conference
      // (Twilio replaced the call's TwiML, which ends this stream); nothing more to dial here.
      transfer: async (target) => {
        log.info("call handed to a person", { hasTarget: Boolean(target) });
      },
      cache: r2UtteranceCache(
        this.env.MEDIA,
        { voiceId: config.elevenlabs.voiceId, modelId: config.elevenlabs.modelId },
        (p) => this.ctx.waitUntil(p),
        hotUtterances,
      ),
      timers: this.timers,
      nowMs: () => Date.now(),
      log,
    };
  }

  /** Write the call's recording to R2 once and record `recording_stored`; failures are logged, never thrown. */
  private async storeRecording(): Promise<void> {
    const recording = this.recording;
    if (!recording) return;
    this.recording = null;
    try {
      const stored = await recording.store();
      this.persist(null, [
        {
          callSid: recording.callSid,
          atMs: Date.now(),
          type: RECORDING_STORED_EVENT,
          payload: { ...stored },
        },
      ]);
    } catch (err) {
      this.log.error("call recording not stored", {
        callSid: recording.callSid,
        error: errorFields(err),
      });
    }
  }

  /**
   * A lead's flow variables: the campaign's lead when the call belongs to a campaign that knows the
   * id, else a web lead's variables kept in the edge store by speed to lead. Empty when neither has it.
   */
  private async leadVars(campaign: string | null, leadId: string): Promise<Record<string, string>> {
    if (campaign) {
      const found = await this.campaignLeadVars(campaign, leadId);
      if (Object.keys(found).length > 0) return found;
    }
    try {
      return (await edgePortsFor(this.config, this.env).callVars.get(leadId)) ?? {};
    } catch (err) {
      this.log.warn("web lead call variables not loaded", { error: errorFields(err) });
      return {};
    }
  }

  /** The campaign lead's flow variables (empty when the campaign or lead is unknown). */
  private async campaignLeadVars(campaign: string, leadId: string): Promise<Record<string, string>> {
    try {
      const dialer = this.env.CAMPAIGN_DIALER.get(this.env.CAMPAIGN_DIALER.idFromName(campaign));
      return (await dialer.leadVars(leadId)) ?? {};
    } catch (err) {
      this.log.warn("campaign lead not loaded", { error: errorFields(err) });
      return {};
    }
  }

  /** Tell the campaign's dialer how its call ended (booked, opted out), so progress is right. */
  private async reportCampaignOutcome(meta: CallMeta, engine: CallEngine): Promise<void> {
    if (!meta.campaign) return;
    const snapshot = engine.state;
    try {
      const dialer = this.env.CAMPAIGN_DIALER.get(this.env.CAMPAIGN_DIALER.idFromName(meta.campaign));
      await dialer.callOutcome(meta.callSid, {
        booked: snapshot.vars.booked_start !== undefined,
        optedOut: snapshot.optedOut,
      });
    } catch (err) {
      this.log.warn("campaign outcome not reported", {
        error: errorFields(err),
      });
    }
  }

  /**
   * Single use: remember a verified token id until it expires, and refuse it the second time, so a
   * replayed handshake can neither take over the live call nor reopen an ended one.
   */
  private consumeStreamToken(tokenId: string, expiresAtMs: number, nowMs: number): boolean {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM used_stream_tokens WHERE expires_at_ms < ?", nowMs);
    const inserted = sql.exec(
      "INSERT INTO used_stream_tokens (id, expires_at_ms) VALUES (?, ?) ON CONFLICT(id) DO NOTHING",
      tokenId,
      expiresAtMs,
    );
    return inserted.rowsWritten > 0;
  }

  private loadRecord(): CallRecord | null {
    const row = this.ctx.storage.sql
      .exec<{ json: string }>("SELECT json FROM call_record WHERE id = 1")
      .toArray()[0];
    return row ? (JSON.parse(row.json) as CallRecord) : null;
  }

  /** Snapshot and events in one transaction; the flush happens later, from the alarm. */
  private persist(record: CallRecord | null, events: CallEventInput[]): void {
    if (this.erased()) return;
    this.ctx.storage.transactionSync(() => {
      if (record) {
        this.ctx.storage.sql.exec(
          "INSERT INTO call_record (id, json) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET json = excluded.json",
          JSON.stringify(record),
        );
      }
      if (events.length > 0) this.outbox.appendInTransaction(events);
    });
    if (events.length > 0) this.armFlush(250);
    if (record) this.mirrorState(record);
  }

  /** Mirror the live call state off the hot path, in order, so the latest transition wins. */
  private mirrorState(record: CallRecord): void {
    const state = liveCallState(record, Date.now());
    // Events without a transition (latency records, barge-ins) leave the live state as it was: no write.
    const { updated_at: _, ...content } = state;
    const key = JSON.stringify(content);
    if (key === this.lastMirrored) return;
    this.lastMirrored = key;
    this.mirrorChain = this.mirrorChain.then(() =>
      this.mirror.put(state).catch((err: unknown) => {
        this.log.warn("call state mirror failed", {
          error: errorFields(err),
        });
      }),
    );
    this.ctx.waitUntil(this.mirrorChain);
  }

  private armFlush(delayMs: number): void {
    if (this.alarmArmed || !this.config.database) return;
    this.alarmArmed = true;
    this.ctx.waitUntil(this.ctx.storage.setAlarm(Date.now() + delayMs));
  }

  /** Flush the outbox to Postgres; on failure the next alarm retries with backoff. */
  override async alarm(): Promise<void> {
    this.alarmArmed = false;
    const db = this.config.database;
    if (!db || this.erased()) return;
    const store = new PostgresEventStore(
      neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy }),
      this.log,
    );
    const result = await flushOutbox(this.outbox, store, this.log);
    if (result.nextDelayMs !== undefined) {
      this.alarmArmed = true;
      await this.ctx.storage.setAlarm(Date.now() + result.nextDelayMs);
      return;
    }
    await this.scoreEndedCall(db);
  }

  /** Once an ended call's whole audit trail is in Postgres, score it (off the hot path, once). */
  private async scoreEndedCall(db: NonNullable<AppConfig["database"]>): Promise<void> {
    const record = this.loadRecord();
    if (record?.snapshot.status !== "ended" || this.outbox.stats().size > 0) return;
    const { session, release } = await neonConnect({ databaseUrl: db.url, wsProxyUrl: db.wsProxy })();
    try {
      await scoreAndStore(session, record.callSid);
      // The transcript is kept with the call (next to its recording) once its audit trail is complete.
      const events = (await loadEvents(session, [record.callSid])).get(record.callSid) ?? [];
      const transcript = assembleTranscript(events, getFlow(record.meta.flowId));
      await this.env.MEDIA.put(
        transcriptObjectKey(record.callSid),
        JSON.stringify({ callSid: record.callSid, transcript }),
        {
          httpMetadata: { contentType: "application/json" },
        },
      );
    } catch (err) {
      this.log.warn("call scorecard or transcript not stored", {
        error: errorFields(err),
      });
    } finally {
      await release();
    }
  }

  /** Twilio status callback for this call. */
  async callStatus(callSid: string, status: string, durationSeconds: number | null): Promise<void> {
    const ended = callEndedEvent(callSid, status, durationSeconds, this.loadRecord()?.snapshot, Date.now());
    if (!ended) return;
    this.persist(null, [ended]);
    const engine = this.engine;
    if (engine) {
      await engine.hangupReceived();
      return;
    }
    // No instance runs the call right now: close the stored flow so it does not stay "active".
    const record = this.loadRecord();
    const flow = record ? getFlow(record.meta.flowId) : undefined;
    const closed = record && flow ? closeStoredCall(record, flow, Date.now()) : null;
    if (closed) this.persist(closed.record, closed.events);
  }

  /** Asynchronous AMD result for this call. */
  async amdResult(callSid: string, answeredBy: string): Promise<void> {
    // Twilio's raw answer; the flow records what it did with it (`amd.result`).
    this.persist(null, [{ callSid, atMs: Date.now(), type: "amd.callback", payload: { answeredBy } }]);
    if (this.engine) this.engine.onAmd(answeredBy);
    else this.pendingAmd = answeredBy;
  }

  /** The live call state as mirrored (Redis, or this object's storage when Upstash is not configured). */
  async liveState(callSid: string): Promise<CallState | null> {
    return (await this.mirror.get(callSid)) ?? null;
  }

  /** Test and operator hook: the stored record and outbox size. */
  async inspect(): Promise<{ record: CallRecord | null; outboxSize: number; pending: InspectedEvent[] }> {
    const pending = this.outbox
      .takeBatch(1_000)
      .map((e) => ({ type: e.type, seq: e.seq, atMs: e.atMs, payloadJson: JSON.stringify(e.payload) }));
    return { record: this.loadRecord(), outboxSize: this.outbox.stats().size, pending };
  }
}
