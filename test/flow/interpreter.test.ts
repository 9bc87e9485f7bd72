// Interpreter behaviour through whole calls: effects, actions, reprompts, global events, resumption, purity.
import { describe, expect, it } from "vitest";
import { initialSnapshot, listeningSpec, resumeEffects, step } from "../../src/flow/interpreter";
import { FlowError } from "../../src/flow/schema";
import type { Effect } from "../../src/flow/types";
import { answerActions, begin, feed, loadShipped, reach, SUNDAY_NOON, spoken } from "./helpers";

const outbound = loadShipped("outbound-booking");
const inbound = loadShipped("inbound-triage");

const logTypes = (effects: Effect[]) => effects.flatMap((e) => (e.type === "log" ? [e.event.type] : []));

describe("outbound booking call", () => {
  it("books the chosen slot and confirms aloud the time the calendar booked", () => {
    const run = begin(outbound);
    const greet = feed(run, { type: "start" });
    expect(spoken(greet)).toEqual([
      "Hi, this is Nova, an automated assistant from Quantum, on a recorded line. Am I speaking with Alex?",
    ]);
    expect(logTypes(greet)).toContain("recording_notice");
    feed(run, { type: "intent", branch: "yes" });
    const toBook = feed(run, {
      type: "intent",
      branch: "positive",
      captures: { intent: "demo", not_declared: "x" },
    });
    expect(run.snap.vars.intent).toBe("demo");
    expect(run.snap.vars.not_declared).toBeUndefined();
    expect(toBook.find((e) => e.type === "say")).toMatchObject({
      text: "Let me check the diary.",
      cacheable: true,
      lineId: "book.hold",
    });
    const slots = feed(run, {
      type: "action_result",
      actionId: "book.1.0",
      ok: true,
      data: { slot_1: "2026-03-10T10:30:00Z", slot_2: "2026-06-11T13:00:00Z" },
    });
    expect(spoken(slots)).toEqual([
      "I can book 15 minutes with our team: Tuesday the tenth at half past ten in the morning or Thursday the eleventh of June at two o'clock in the afternoon. Which suits you better?",
    ]);
    feed(run, { type: "intent", branch: "slot_selected", captures: { slot: "slot_2" } });
    const run_actions = run.effects.filter((e) => e.type === "run_actions").at(-1);
    expect(run_actions).toMatchObject({
      parallel: true,
      actions: [
        {
          id: "confirm.1.0",
          name: "cal.com:create_booking",
          params: { start: "2026-06-11T13:00:00Z", email: "alex@example.co.uk" },
        },
        { id: "confirm.1.1", name: "crm:create_meeting" },
      ],
    });
    const done = feed(
      run,
      { type: "action_result", actionId: "confirm.1.1", ok: false },
      {
        type: "action_result",
        actionId: "confirm.1.0",
        ok: true,
        data: { booked_start: "2026-06-11T13:00:00Z" },
      },
    );
    expect(spoken(done)).toEqual([
      "Booked. You'll get a calendar invite at alex@example.co.uk. See you Thursday the eleventh of June at two o'clock in the afternoon.",
      "Thanks for your time today. Goodbye.",
    ]);
    expect(done.at(-2)).toEqual({ type: "hangup", reason: "close" });
    expect(run.snap.status).toBe("ended");
  });

  it("leaves a short cacheable voicemail when AMD says machine", () => {
    const run = begin(outbound);
    feed(run, { type: "start" });
    const vm = feed(run, { type: "amd", result: "machine" });
    const say = vm.find((e) => e.type === "say");
    expect(say).toMatchObject({ cacheable: true, stateId: "leave_voicemail" });
    expect(vm).toContainEqual({ type: "hangup", reason: "leave_voicemail" });
  });

  it("ignores AMD human without moving", () => {
    const run = begin(outbound);
    feed(run, { type: "start" });
    feed(run, { type: "amd", result: "human" });
    expect(run.snap.state).toBe("greeting");
    expect(run.snap.ignoredEvents).toBe(1);
  });

  it("reprompts on silence with the state's reprompt line, then closes politely after the limit", () => {
    const run = begin(outbound);
    feed(run, { type: "start" });
    const first = feed(run, { type: "no_speech" });
    expect(spoken(first)).toEqual(["Sorry, I didn't quite catch that.", "Sorry, is this Alex?"]);
    expect(first.find((e) => e.type === "say" && e.lineId === "greeting.reprompt")).toBeDefined();
    expect(first.at(-1)?.type).toBe("listen");
    feed(run, { type: "no_speech" });
    const last = feed(run, { type: "no_speech" });
    expect(logTypes(last)).toContain("reprompts_exhausted");
    expect(spoken(last).at(-1)).toBe("Thanks for your time today. Goodbye.");
    expect(run.snap.status).toBe("ended");
  });

  it("treats an unrecognised branch like silence", () => {
    const run = begin(outbound);
    feed(run, { type: "start" });
    feed(run, { type: "intent", branch: "banana" });
    expect(run.snap.path).toEqual(["greeting", "reprompt", "greeting"]);
  });

  it("reprompting the booking question does not fetch slots again", () => {
    const run = reach(outbound, "book");
    feed(run, ...answerActions(run, "success"));
    const again = feed(run, { type: "no_speech" });
    expect(again.some((e) => e.type === "run_actions")).toBe(false);
    expect(again.at(-1)?.type).toBe("listen");
  });

  it("a failed required booking action hands off instead of confirming", () => {
    const run = reach(outbound, "confirm");
    const out = feed(run, ...answerActions(run, "failure"));
    expect(spoken(out).join(" ")).not.toContain("Booked");
    expect(run.snap.state).toBe("handoff");
  });

  it("ignores unknown, duplicate and late action results", () => {
    const run = reach(outbound, "book");
    feed(run, { type: "action_result", actionId: "nope", ok: true });
    expect(run.snap.ignoredEvents).toBe(1);
    feed(run, { type: "opt_out" });
    feed(run, { type: "action_result", actionId: "book.1.0", ok: true });
    expect(run.snap.state).toBe("opt_out");
    expect(run.snap.ignoredEvents).toBe(2);
  });

  it("opt-out from any state is logged, suppresses, and ends the call", () => {
    const run = reach(outbound, "qualify");
    const out = feed(run, { type: "intent", branch: "opt_out" });
    expect(logTypes(out)).toContain("opt_out");
    expect(run.snap.optedOut).toBe(true);
    expect(out).toContainEqual({
      type: "run_actions",
      actions: [{ id: "opt_out.1.0", name: "crm:add_suppression", params: {} }],
      parallel: true,
    });
    const end = feed(run, ...answerActions(run, "failure"));
    expect(spoken(end)).toEqual([
      "No problem. I've noted that you don't want any more calls from us. Goodbye.",
    ]);
    expect(run.snap.status).toBe("ended");
  });

  it("max duration closes politely, or hangs up at once in a terminal state", () => {
    const a = reach(outbound, "qualify");
    expect(spoken(feed(a, { type: "max_duration" }))).toEqual(["Thanks for your time today. Goodbye."]);
    const b = reach(outbound, "opt_out");
    expect(feed(b, { type: "max_duration" })).toContainEqual({ type: "hangup", reason: "max_duration" });
  });

  it("caller hangup ends the call with no further effects", () => {
    const run = reach(outbound, "qualify");
    const out = feed(run, { type: "caller_hangup" });
    expect(out.every((e) => e.type === "log")).toBe(true);
    expect(run.snap.endReason).toBe("caller_hangup");
    expect(feed(run, { type: "intent", branch: "positive" })).toEqual([]);
  });

  it("closes after too many events that change nothing", () => {
    const run = reach(outbound, "book");
    for (let i = 0; i < 21; i += 1) feed(run, { type: "no_speech" });
    expect(run.snap.status).toBe("ended");
    expect(run.snap.endReason).toBe("close");
  });

  it("rejects captures that are not valid instants and resolves slot names to their values", () => {
    const run = reach(outbound, "book");
    feed(run, ...answerActions(run, "success"));
    const rejected = feed(run, { type: "intent", branch: "other_time", captures: { slot: "next tuesday" } });
    expect(logTypes(rejected)).toContain("capture_rejected");
    expect(run.snap.vars.slot).toBeUndefined();
  });

  it("speaks slots in the callee's time_zone when given", () => {
    const run = begin(outbound, Date.parse("2026-03-02T10:00:00Z"), {
      first_name: "Sam",
      time_zone: "America/New_York",
    });
    feed(run, { type: "start" }, { type: "intent", branch: "yes" }, { type: "intent", branch: "positive" });
    const out = feed(run, {
      type: "action_result",
      actionId: "book.1.0",
      ok: true,
      data: { slot_1: "2026-03-10T15:00:00Z", slot_2: "2026-03-10T18:00:00Z" },
    });
    expect(spoken(out)[0]).toContain(
      "Tuesday the tenth at eleven o'clock in the morning or Tuesday the tenth at two o'clock in the afternoon",
    );
  });

  it("transfers to the target the handoff action returned", () => {
    const run = reach(outbound, "handoff");
    const out = feed(run, {
      type: "action_result",
      actionId: "handoff.1.0",
      ok: true,
      data: { transfer_target: "+442071234567" },
    });
    expect(out).toContainEqual({ type: "transfer", target: "+442071234567" });
  });

  it("requires the call variables the flow declares required", () => {
    expect(() => initialSnapshot(outbound, {}, 0)).toThrow(FlowError);
    expect(() => initialSnapshot(outbound, {}, 0)).toThrow(/first_name/);
  });
});

describe("snapshots", () => {
  it("step never mutates its input and snapshots survive a JSON round trip mid-flow", () => {
    const run = reach(outbound, "qualify");
    const frozen = JSON.stringify(run.snap);
    const direct = step(outbound, run.snap, { type: "intent", branch: "positive" }, 5);
    expect(JSON.stringify(run.snap)).toBe(frozen);
    const restored = step(outbound, JSON.parse(frozen), { type: "intent", branch: "positive" }, 5);
    expect(restored).toEqual(direct);
    expect(JSON.parse(JSON.stringify(direct))).toEqual(direct);
  });

  it("resuming a listening state listens again without replaying anything", () => {
    const run = reach(outbound, "qualify");
    const effects = resumeEffects(outbound, JSON.parse(JSON.stringify(run.snap)));
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: "listen", stateId: "qualify" });
  });

  it("resuming while actions are pending re-runs only the unanswered ones", () => {
    const run = reach(outbound, "confirm");
    feed(run, { type: "action_result", actionId: "confirm.1.1", ok: true });
    expect(resumeEffects(outbound, run.snap)).toEqual([
      {
        type: "run_actions",
        actions: [{ id: "confirm.1.0", name: "cal.com:create_booking", params: expect.any(Object) }],
        parallel: true,
      },
    ]);
  });

  it("listeningSpec reports branches, captures and per-state overrides", () => {
    const clarify = reach(outbound, "clarify");
    expect(listeningSpec(outbound, clarify.snap)).toMatchObject({
      branches: ["positive", "negative", "unclear"],
      reasoning: true,
    });
    const transfer = reach(outbound, "transfer");
    expect(listeningSpec(outbound, transfer.snap)?.noSpeechTimeoutMs).toBe(20_000);
    const book = reach(outbound, "book");
    expect(listeningSpec(outbound, book.snap)).toBeNull();
    feed(book, ...answerActions(book, "success"));
    expect(listeningSpec(outbound, book.snap)).toMatchObject({
      dtmfKeys: ["1", "2"],
      endpointing: { silence_duration_ms: 600 },
    });
  });
});

describe("inbound triage call", () => {
  it("out of hours takes a message and routes it to the morning chat queue", () => {
    const run = begin(inbound, SUNDAY_NOON, { caller_number: "+447700900123" });
    const greet = feed(run, { type: "start" });
    expect(run.snap.path).toEqual(["check_hours", "out_of_hours"]);
    expect(spoken(greet)[0]).toContain("We're closed right now");
    const routed = feed(run, {
      type: "intent",
      branch: "provided",
      captures: { name: "Jo", message: "Leak in the kitchen" },
    });
    expect(routed).toContainEqual({
      type: "run_actions",
      parallel: true,
      actions: [
        {
          id: "route_to_queue.1.0",
          name: "chat:notify",
          params: {
            queue: "morning-handoff",
            name: "Jo",
            phone: "+447700900123",
            message: "Leak in the kitchen",
          },
        },
      ],
    });
    const end = feed(run, ...answerActions(run, "success"));
    expect(spoken(end)[0]).toMatch(/^Thanks, Jo\. That's with the team's morning queue/);
    expect(run.snap.status).toBe("ended");
  });

  it("treats an England & Wales bank holiday as out of hours", () => {
    const run = begin(inbound, Date.parse("2026-05-04T10:00:00Z"));
    feed(run, { type: "start" });
    expect(run.snap.state).toBe("out_of_hours");
  });

  it("in hours greets, triages by DTMF in clarify, and hands urgent calls to a person", () => {
    const run = begin(inbound);
    feed(run, { type: "start" }, { type: "intent", branch: "unclear" });
    expect(run.snap.state).toBe("clarify");
    const out = feed(run, { type: "dtmf", digit: "3" });
    expect(run.snap.state).toBe("handoff");
    expect(spoken(out)).toEqual(["Let me put you through to a member of our team."]);
  });

  it("drops the empty-name greeting words cleanly when no name was captured", () => {
    const run = reach(inbound, "route_to_queue", true);
    const end = feed(run, ...answerActions(run, "success"));
    expect(spoken(end)[0]).toMatch(/^Thanks\. That's with the team's morning queue/);
  });
});
