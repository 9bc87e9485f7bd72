import { describe, expect, it } from "vitest";
import { DEFAULT_QA_CONFIG, qaConfig } from "../../src/qa/config";
import { type Scorecard, scoreCall } from "../../src/qa/scorecard";
import { bookedCall, CallBuilder, deafCall, IN_WINDOW_MS, LATE_MS } from "./call-builder";

function criterion(card: Scorecard, id: string) {
  const c = card.criteria.find((x) => x.id === id);
  if (!c) throw new Error(`no criterion ${id}`);
  return c;
}

const reasons = (card: Scorecard, id: string) =>
  criterion(card, id)
    .evidence.map((e) => e.reason)
    .join(" | ");

describe("scoreCall", () => {
  it("passes every criterion of a clean booked call and scores 100", () => {
    const card = scoreCall(bookedCall("CA1").events, DEFAULT_QA_CONFIG);
    expect(card.criteria.map((c) => [c.id, c.passed])).toEqual([
      ["answered", true],
      ["consent", true],
      ["compliance", true],
      ["clarity", true],
      ["outcome", true],
      ["latency", true],
    ]);
    expect(card.score).toBe(100);
    expect(card.outcome).toBe("booked");
    expect(card.p50Ms).toBe(800);
  });

  it("cites the events that decided a criterion", () => {
    const b = bookedCall("CA1");
    const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
    const notice = b.events.find((e) => e.type === "flow.recording_notice");
    expect(criterion(card, "consent").evidence).toContainEqual(
      expect.objectContaining({ eventId: notice?.id, seq: notice?.seq }),
    );
  });

  describe("every caller turn answered", () => {
    it("fails the deaf call, citing the unanswered turn and its time", () => {
      const b = deafCall("CA40");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      const answered = criterion(card, "answered");
      expect(answered.passed).toBe(false);
      const dropped = b.events.find((e) => e.type === "turn.dropped");
      expect(answered.evidence).toContainEqual({
        eventId: dropped?.id,
        seq: dropped?.seq,
        atMs: dropped?.atMs,
        reason:
          "caller turn at 0:04.6 in greeting, not acted on by the engine: no response before the call ended 20.0 s later",
      });
      expect(reasons(card, "answered")).toContain("1 of 1 caller turns unanswered");
      expect(reasons(card, "outcome")).toContain("no outcome after 1 caller turns");
    });

    it("scores a dead call at most 60, whatever else it passes, and below every answered call", () => {
      expect(scoreCall(deafCall("CA41").events, DEFAULT_QA_CONFIG).score).toBe(50);
      // Even a dead call that passed every other criterion stays under 60.
      const passAllElse = qaConfig({ passingOutcomes: ["no_outcome"] });
      const deafButOtherwiseFine = scoreCall(
        deafCall("CA42").add("opt_out.recorded", { phone: "+447700900123" }).events,
        passAllElse,
      );
      expect(criterion(deafButOtherwiseFine, "answered").passed).toBe(false);
      expect(deafButOtherwiseFine.score).toBeLessThanOrEqual(60);
      // An answered call with the same (missing) outcome scores clearly higher.
      const answeredNoOutcome = new CallBuilder("CA43")
        .start()
        .greet()
        .amd("human")
        .turn("yes", "Yes, speaking")
        .enter("qualify", "yes")
        .latency(1, 700)
        .callerHangup(3_000);
      const card = scoreCall(answeredNoOutcome.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "answered").passed).toBe(true);
      expect(card.score).toBeGreaterThanOrEqual(90);
    });

    it("does not blame the agent for a caller who hangs up within the budget", () => {
      const b = new CallBuilder("CA44").start().greet().amd("human").dropped(2_000).callerHangup(1_000);
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "answered").passed).toBe(true);
      expect(reasons(card, "answered")).toContain(
        "1 turns followed by the caller hanging up within the budget",
      );
    });

    it("counts a turn answered only within the turn budget", () => {
      const late = new CallBuilder("CA45")
        .start()
        .greet()
        .amd("human")
        .dropped(2_000)
        .enter("qualify", "yes");
      late.events[late.events.length - 1] = {
        ...(late.events[late.events.length - 1] as (typeof late.events)[number]),
        atMs: (late.events[late.events.length - 2]?.atMs ?? 0) + 8_000,
      };
      const card = scoreCall(late.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "answered").passed).toBe(false);
      expect(reasons(card, "answered")).toContain("first one after 8.0 s");
      const lenient = qaConfig({ answered: { turnBudgetMs: 10_000 } });
      expect(criterion(scoreCall(late.events, lenient), "answered").passed).toBe(true);
    });

    it("accepts a dropped turn answered by the next line or step (e.g. an action result)", () => {
      const b = new CallBuilder("CA46").start().greet().amd("human").enter("book", "yes").dropped(500);
      b.bookingOk().enter("confirm", "success").line("u3", "You're booked.").end("close");
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "answered").passed).toBe(true);
    });

    it("ignores what the caller says after the agent ended the call", () => {
      const b = new CallBuilder("CA47").start().greet().amd("human").enter("close", "yes");
      b.add("flow.call_ended", { reason: "close", state: "close" }).dropped(300, "call_ended");
      b.add("call.ended", { outcome: "close", reason: "completed" }, 25_000);
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "answered").passed).toBe(true);
      expect(reasons(card, "answered")).toContain("1 turns after the call ended, not counted");
    });

    it("leaves a turn of a call in progress unjudged until its budget has passed", () => {
      const b = new CallBuilder("CA48").start().greet().amd("human").dropped(1_000);
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "answered").passed).toBe(true);
      b.add("call.heartbeat", {}, 7_000);
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "answered").passed).toBe(false);
    });
  });

  describe("consent and disclosure", () => {
    it("fails a call that pitches before the recording notice", () => {
      const b = new CallBuilder("CA2").start().enter("greeting", "start").amd("human");
      b.turn("yes", "yes")
        .enter("qualify", "yes")
        .add("flow.recording_notice", { state: "qualify" })
        .end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "consent").passed).toBe(false);
      expect(reasons(card, "consent")).toContain("pitch before the recording notice");
    });

    it("fails a call that pitches with no disclosure at all", () => {
      const b = new CallBuilder("CA3")
        .start()
        .enter("greeting", "start")
        .amd("human")
        .enter("qualify", "yes")
        .end("close");
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "consent").passed).toBe(false);
    });

    it("requires a granted consent before the pitch where the flow requires it", () => {
      const config = qaConfig({ consentRequiredFlows: ["outbound-booking"] });
      expect(criterion(scoreCall(bookedCall("CA4").events, config), "consent").passed).toBe(false);
      const b = new CallBuilder("CA5").start().greet().amd("human");
      b.add("consent.recorded", { phone: "+447700900123", kind: "recording", granted: true });
      b.enter("qualify", "yes").end("close");
      const card = scoreCall(b.events, config);
      expect(criterion(card, "consent").passed).toBe(true);
      expect(reasons(card, "consent")).toContain("consent captured");
    });

    it("fails a call that keeps pitching after the caller refused consent", () => {
      const b = new CallBuilder("CA6").start().greet().amd("human");
      b.add("consent.recorded", { phone: "+447700900123", kind: "recording", granted: false });
      b.enter("qualify", "yes").end("close");
      expect(reasons(scoreCall(b.events, DEFAULT_QA_CONFIG), "consent")).toContain("refused consent");
    });
  });

  describe("compliance", () => {
    it("passes an opt-out honoured at once: suppression written, opt-out line next, no pitch after", () => {
      const b = new CallBuilder("CA7")
        .start()
        .greet()
        .amd("human")
        .turn("yes", "yes")
        .enter("qualify", "yes");
      b.turn("opt_out", "stop calling me", { matched: false })
        .enter("opt_out", "opt_out")
        .optOut()
        .end("opt_out");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "compliance").passed).toBe(true);
      expect(card.outcome).toBe("opt_out");
      expect(reasons(card, "compliance")).toContain("suppression written at once");
    });

    it("FAILS a call whose opt-out was ignored (pitch continued, no suppression)", () => {
      const b = new CallBuilder("CA8")
        .start()
        .greet()
        .amd("human")
        .turn("yes", "yes")
        .enter("qualify", "yes");
      b.turn("opt_out", "take me off your list", { matched: false }).enter("book", "positive").end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "compliance").passed).toBe(false);
      const text = reasons(card, "compliance");
      expect(text).toContain("no suppression was written");
      expect(text).toContain("pitch (book) after the opt-out request");
    });

    it("fails an opt-out whose suppression came too late", () => {
      const b = new CallBuilder("CA9")
        .start()
        .greet()
        .amd("human")
        .turn("opt_out", "stop", { matched: false });
      b.enter("opt_out", "opt_out").add(
        "opt_out.recorded",
        { phone: "+447700900123", source: "call" },
        9_000,
      );
      b.end("opt_out");
      expect(reasons(scoreCall(b.events, DEFAULT_QA_CONFIG), "compliance")).toMatch(
        /suppression written \d+ ms after/,
      );
    });

    it("FAILS a call that pitched before the AMD result", () => {
      const b = new CallBuilder("CA10")
        .start()
        .greet()
        .turn("yes", "hello?")
        .enter("qualify", "yes")
        .amd("human");
      b.end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "compliance").passed).toBe(false);
      expect(reasons(card, "compliance")).toContain("pitch (qualify) before the AMD result");
    });

    it("fails a pitch delivered to an answering machine", () => {
      const b = new CallBuilder("CA11")
        .start()
        .greet()
        .amd("machine_end_beep")
        .enter("qualify", "yes")
        .end("close");
      expect(reasons(scoreCall(b.events, DEFAULT_QA_CONFIG), "compliance")).toContain(
        "to an answering machine",
      );
    });

    it("treats a missing AMD result as pending when outbound calls always expect one", () => {
      const b = new CallBuilder("CA12").start().greet().enter("qualify", "yes").end("close");
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "compliance").passed).toBe(true);
      const strict = qaConfig({ compliance: { amdExpectedOnOutbound: true } });
      expect(reasons(scoreCall(b.events, strict), "compliance")).toContain("AMD result was still pending");
    });

    it("FAILS an outbound call placed outside the calling window", () => {
      const card = scoreCall(bookedCall("CA13", LATE_MS).events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "compliance").passed).toBe(false);
      expect(reasons(card, "compliance")).toContain("outside the calling window: outside_hours");
    });

    it("fails an outbound call on a Sunday and passes an inbound call at any hour", () => {
      const sunday = Date.UTC(2026, 4, 24, 11, 0, 0);
      expect(
        criterion(scoreCall(bookedCall("CA14", sunday).events, DEFAULT_QA_CONFIG), "compliance").passed,
      ).toBe(false);
      const inbound = new CallBuilder("CA15", LATE_MS).start({
        direction: "inbound",
        flowId: "inbound-triage",
      });
      inbound.greet().enter("close", "no_speech").end("close");
      expect(criterion(scoreCall(inbound.events, DEFAULT_QA_CONFIG), "compliance").passed).toBe(true);
    });
  });

  describe("clarity", () => {
    it("passes a call within every clarity threshold", () => {
      expect(criterion(scoreCall(bookedCall("CA16").events, DEFAULT_QA_CONFIG), "clarity").passed).toBe(true);
    });

    it("fails a call with too many reprompts", () => {
      const b = new CallBuilder("CA17").start().greet().amd("human");
      for (let i = 0; i < 3; i++) b.enter("reprompt", "no_speech").enter("greeting", "resume");
      b.end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "clarity").passed).toBe(false);
      expect(reasons(card, "clarity")).toContain("3 reprompts (allowed 2)");
    });

    it("fails a call with low-confidence turns (no match, LLM failure, DTMF disagreement)", () => {
      const b = new CallBuilder("CA18").start().greet().amd("human").turn("", "mumble", { matched: false });
      b.add("llm.failed", { state: "greeting" }).add("dtmf.disagreed", { state: "greeting" }).end("close");
      expect(reasons(scoreCall(b.events, DEFAULT_QA_CONFIG), "clarity")).toContain(
        "3 low-confidence turns (allowed 1)",
      );
    });

    it("fails a call with too many barge-ins", () => {
      const b = new CallBuilder("CA19").start().greet().amd("human");
      for (let i = 0; i < 4; i++) b.bargeIn();
      b.end("close");
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "clarity").passed).toBe(false);
    });

    it("fails a call with long silences (replies slower than the threshold)", () => {
      const b = new CallBuilder("CA20")
        .start()
        .greet()
        .amd("human")
        .latency(1, 3_500)
        .latency(2, 4_100)
        .end("close");
      expect(reasons(scoreCall(b.events, DEFAULT_QA_CONFIG), "clarity")).toContain(
        "2 long silences (allowed 1)",
      );
    });
  });

  describe("outcome", () => {
    it("passes a booking the calendar confirmed", () => {
      const card = scoreCall(bookedCall("CA21").events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "outcome").passed).toBe(true);
      expect(reasons(card, "outcome")).toContain("calendar accepted the booking");
    });

    it("fails a booking attempt the calendar did not confirm", () => {
      const b = new CallBuilder("CA22").start().greet().amd("human").enter("confirm", "slot_selected");
      b.add("action.result", { action: "cal.com:create_booking", ok: false, error: "slot taken" });
      b.enter("handoff", "failure").end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(card.outcome).toBe("booking_failed");
      expect(criterion(card, "outcome").passed).toBe(false);
    });

    it("classifies voicemail, callback and transfer as passing outcomes, and a bare close as failing", () => {
      const vm = new CallBuilder("CA23")
        .start()
        .greet()
        .amd("machine_end_beep")
        .enter("leave_voicemail", "voicemail");
      expect(scoreCall(vm.end("leave_voicemail").events, DEFAULT_QA_CONFIG).outcome).toBe("voicemail");
      const cb = new CallBuilder("CA24")
        .start()
        .greet()
        .amd("human")
        .enter("schedule_callback", "time_given");
      expect(scoreCall(cb.end("schedule_callback").events, DEFAULT_QA_CONFIG).outcome).toBe("callback");
      const tr = new CallBuilder("CA25").start().greet().amd("human").enter("put_through", "success");
      expect(scoreCall(tr.end("put_through").events, DEFAULT_QA_CONFIG).outcome).toBe("transfer");
      const none = new CallBuilder("CA26")
        .start()
        .greet()
        .amd("human")
        .enter("close", "no_speech")
        .end("close");
      const card = scoreCall(none.events, DEFAULT_QA_CONFIG);
      expect(card.outcome).toBe("no_outcome");
      expect(criterion(card, "outcome").passed).toBe(false);
    });
  });

  describe("latency", () => {
    it("fails a call whose p95 exceeds the 1.6 s budget and cites the slow turn", () => {
      const b = new CallBuilder("CA27")
        .start()
        .greet()
        .amd("human")
        .latency(1, 700)
        .latency(2, 2_400)
        .end("close");
      const card = scoreCall(b.events, DEFAULT_QA_CONFIG);
      expect(criterion(card, "latency").passed).toBe(false);
      expect(reasons(card, "latency")).toContain("turn 2 took 2400 ms");
    });

    it("fails a slow median even when every turn is under the p95 budget", () => {
      const b = new CallBuilder("CA28")
        .start()
        .greet()
        .amd("human")
        .latency(1, 1_400)
        .latency(2, 1_500)
        .end("close");
      expect(criterion(scoreCall(b.events, DEFAULT_QA_CONFIG), "latency").passed).toBe(false);
    });

    it("uses configured budgets and weights", () => {
      const b = new CallBuilder("CA29")
        .start()
        .greet()
        .amd("human")
        .latency(1, 1_400)
        .latency(2, 1_500)
        .end("close");
      const config = qaConfig({ latency: { p50BudgetMs: 1_500 }, weights: { latency: 0 } });
      const card = scoreCall(b.events, config);
      expect(criterion(card, "latency").passed).toBe(true);
      expect(criterion(card, "latency").weight).toBe(0);
    });
  });

  it("weights the score by the criteria that passed", () => {
    // Compliance (30 of 170) fails: 140 / 170.
    const card = scoreCall(bookedCall("CA30", LATE_MS).events, DEFAULT_QA_CONFIG);
    expect(card.score).toBe(82);
  });

  it("orders events by seq whatever order they arrive in", () => {
    const events = bookedCall("CA31", IN_WINDOW_MS).events;
    expect(scoreCall([...events].reverse(), DEFAULT_QA_CONFIG)).toEqual(scoreCall(events, DEFAULT_QA_CONFIG));
  });
});
