import { describe, expect, it } from "vitest";
import { getFlow } from "../../src/call/flows";
import { assembleTranscript } from "../../src/qa/transcript";
import { bookedCall, CallBuilder } from "./call-builder";

const flow = getFlow("outbound-booking");

describe("assembleTranscript", () => {
  it("interleaves agent lines, caller finals with offsets, and state transitions", () => {
    const entries = assembleTranscript(bookedCall("CA1").events, flow);
    const spoken = entries.filter((e) => e.kind === "agent" || e.kind === "caller");
    expect(spoken[0]).toMatchObject({ kind: "agent", lineId: "greeting.say" });
    expect(spoken[0]?.kind === "agent" && spoken[0].text).toContain("Am I speaking with [first_name]?");
    expect(spoken[1]).toMatchObject({ kind: "caller", text: "Yes, speaking" });
    expect(spoken[2]).toMatchObject({ kind: "agent", lineId: "qualify.ask" });
    const caller = entries.find((e) => e.kind === "caller");
    expect(caller?.offsetMs).toBeGreaterThan(0);
    expect(entries.filter((e) => e.kind === "state").map((e) => (e.kind === "state" ? e.to : ""))).toEqual([
      "greeting",
      "qualify",
      "book",
      "confirm",
      "close",
    ]);
  });

  it("renders captured slots in the callee's words and speaks an action state's lines after it succeeds", () => {
    const entries = assembleTranscript(bookedCall("CA2").events, flow);
    const lines = entries.flatMap((e) => (e.kind === "agent" ? [e.lineId] : []));
    expect(lines).toContain("confirm.hold");
    expect(lines).toContain("confirm.say");
    const confirm = entries.find((e) => e.kind === "agent" && e.lineId === "confirm.say");
    expect(confirm?.kind === "agent" && confirm.text).toContain("the email address we have for you");
  });

  it("marks the lines a barge-in cut, and only those", () => {
    const b = new CallBuilder("CA3")
      .start()
      .greet()
      .bargeIn(1)
      .turn("yes", "yes it's me")
      .enter("qualify", "yes");
    const entries = assembleTranscript(b.events, flow);
    const greeting = entries.find((e) => e.kind === "agent" && e.lineId === "greeting.say");
    const qualify = entries.find((e) => e.kind === "agent" && e.lineId === "qualify.ask");
    expect(greeting).toMatchObject({ cut: true });
    expect(qualify).toMatchObject({ cut: false });
    expect(entries.some((e) => e.kind === "barge_in" && e.cut === 1)).toBe(true);
  });

  it("lists DTMF keys and uses the reprompt line when a state resumes", () => {
    const b = new CallBuilder("CA4")
      .start()
      .greet()
      .enter("reprompt", "no_speech")
      .enter("greeting", "resume");
    b.add("flow.dtmf", { state: "greeting", digit: "1", mapped: false });
    const entries = assembleTranscript(b.events, flow);
    expect(entries.some((e) => e.kind === "dtmf" && e.digit === "1" && !e.mapped)).toBe(true);
    expect(entries.some((e) => e.kind === "agent" && e.lineId === "reprompt.say")).toBe(true);
    expect(entries.some((e) => e.kind === "agent" && e.lineId === "greeting.reprompt")).toBe(true);
  });

  it("shows a question the caller asked about the call, without the caller's words", () => {
    const b = new CallBuilder("CA6").start().greet();
    b.add("turn.caller_question", { state: "greeting", kinds: ["ai"], reasked: true });
    const entries = assembleTranscript(b.events, flow);
    expect(entries.find((e) => e.kind === "question")).toMatchObject({
      state: "greeting",
      kinds: ["ai"],
      reasked: true,
    });
  });

  it("leaves agent lines out without the flow", () => {
    expect(assembleTranscript(bookedCall("CA5").events).some((e) => e.kind === "agent")).toBe(false);
  });
});
