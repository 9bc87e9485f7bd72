/** Builds one call's audit events the way the engine and the Durable Object record them, for QA tests and seeding. */
import type { CallEvent } from "../../src/store/call-event";

/** Tuesday 19 May 2026, 10:00 BST: inside the UK calling window. */
export const IN_WINDOW_MS = Date.UTC(2026, 4, 19, 9, 0, 0);
/** Tuesday 19 May 2026, 22:30 BST: outside it. */
export const LATE_MS = Date.UTC(2026, 4, 19, 21, 30, 0);

/** Appends events with increasing seq and time; each method returns the builder. */
export class CallBuilder {
  readonly events: CallEvent[] = [];
  private seq = 0;
  private state: string | null = null;

  constructor(
    readonly callSid: string,
    public atMs: number = IN_WINDOW_MS,
  ) {}

  /** Any event, `stepMs` after the previous one. */
  add(type: string, payload: Record<string, unknown> = {}, stepMs = 200): this {
    this.atMs += stepMs;
    this.seq += 1;
    this.events.push({
      id: `${this.callSid}-${this.seq}`,
      callSid: this.callSid,
      seq: this.seq,
      type,
      atMs: this.atMs,
      payload,
    });
    return this;
  }

  start(opts: { campaignId?: string; direction?: "inbound" | "outbound"; flowId?: string } = {}): this {
    return this.add(
      "call.started",
      {
        direction: opts.direction ?? "outbound",
        from: "+441234567890",
        to: "+447700900123",
        campaignId: opts.campaignId ?? "spring",
        flowId: opts.flowId ?? "outbound-booking",
      },
      0,
    );
  }

  enter(to: string, trigger = "next"): this {
    const from = this.state;
    this.state = to;
    return this.add("state.transition", { from, to, trigger });
  }

  /** The shipped greeting: transition, then its `recording_notice` audit marker. */
  greet(): this {
    return this.enter("greeting", "start").add("flow.recording_notice", { state: "greeting" }, 0);
  }

  turn(branch: string, text: string, opts: { matched?: boolean; source?: "speech" | "dtmf" } = {}): this {
    return this.add(
      "flow.turn",
      { state: this.state, branch, matched: opts.matched ?? true, source: opts.source ?? "speech", text },
      1500,
    );
  }

  /** A line the agent started (`agent.line`, as the engine records it). */
  line(utteranceId: string, text: string, stepMs = 200): this {
    return this.add("agent.line", { utteranceId, state: this.state, text }, stepMs);
  }

  /** A caller turn the engine received but did not act on (`turn.dropped`), `afterMs` after the last event. */
  dropped(afterMs: number, reason = "not_listening"): this {
    return this.add("turn.dropped", { reason, state: this.state, phase: "listening" }, afterMs);
  }

  /** The caller hangs up `afterMs` after the last event: the flow's record, then Twilio's status callback. */
  callerHangup(afterMs: number, durationMs = 30_000): this {
    return this.add("flow.call_ended", { reason: "caller_hangup", state: this.state }, afterMs).add(
      "call.ended",
      { outcome: "caller_hangup", reason: "completed", durationMs },
      50,
    );
  }

  latency(turn: number, totalMs: number, path = "fast_path_cached"): this {
    const endpointingMs = Math.round(totalMs * 0.5);
    const rest = totalMs - endpointingMs;
    return this.add("turn.latency", {
      turn,
      path,
      kind: path,
      endpointingMs,
      llmFirstTokenMs: Math.round(rest * 0.5),
      ttsFirstAudioMs: Math.round(rest * 0.3),
      overheadMs: rest - Math.round(rest * 0.5) - Math.round(rest * 0.3),
      totalMs,
      segments: {
        endpointing: endpointingMs,
        decision: Math.round(rest * 0.5),
        audio: Math.round(rest * 0.3),
        send: rest - Math.round(rest * 0.5) - Math.round(rest * 0.3),
        voiceToVoiceMs: totalMs,
      },
    });
  }

  amd(answeredBy: string): this {
    return this.add("amd.result", { answeredBy });
  }

  optOut(): this {
    return this.add("opt_out.recorded", { phone: "+447700900123", source: "call" }, 10);
  }

  bargeIn(cut = 1): this {
    return this.add("call.barge_in", { reactionMs: 120, cut });
  }

  /** The engine's `action.result` and the flow's own record of it, as a successful booking logs them. */
  bookingOk(): this {
    return this.add("action.result", { action: "cal.com:create_booking", ok: true }, 800).add(
      "flow.action_result",
      {
        state: this.state,
        actionId: `${this.state}.1.0`,
        name: "cal.com:create_booking",
        ok: true,
        outcome: null,
      },
      0,
    );
  }

  end(outcome: string, durationMs = 60_000): this {
    return this.add("flow.call_ended", { reason: outcome, state: this.state }, 1000).add("call.ended", {
      outcome,
      reason: "completed",
      durationMs,
    });
  }
}

/**
 * The deaf call: outbound, greeting played, the caller says "Yes, speaking." and the engine (not listening)
 * drops the turn; nothing more until the caller hangs up 20 s later.
 */
export function deafCall(callSid: string, atMs = IN_WINDOW_MS, campaignId = "spring"): CallBuilder {
  return new CallBuilder(callSid, atMs)
    .start({ campaignId })
    .greet()
    .line("u1", "Hello, this is the booking assistant, an AI, calling from Acme; this call is recorded.")
    .amd("human")
    .dropped(4_000)
    .callerHangup(20_000);
}

/** A clean booked outbound call: disclosure, human AMD, qualify, book, confirm, close. */
export function bookedCall(callSid: string, atMs = IN_WINDOW_MS, campaignId = "spring"): CallBuilder {
  return new CallBuilder(callSid, atMs)
    .start({ campaignId })
    .greet()
    .amd("human")
    .turn("yes", "Yes, speaking")
    .enter("qualify", "yes")
    .latency(1, 700)
    .turn("positive", "We are, yes")
    .enter("book", "positive")
    .latency(2, 900)
    .turn("slot_selected", "Tuesday at ten please")
    .add("flow.capture", { state: "book", key: "slot", value: "2026-05-26T09:00:00Z" }, 0)
    .enter("confirm", "slot_selected")
    .latency(3, 800)
    .bookingOk()
    .enter("close", "success")
    .end("close");
}
