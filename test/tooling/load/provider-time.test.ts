import { describe, expect, it } from "vitest";
import { overheadHops, providerMs, recordsByTurn } from "../../../src/tooling/load/provider-time";

const base = { startMs: 0, speechEndMs: 0, sttFinalMs: 500, endpointMs: 500 };

describe("providerMs", () => {
  it("is zero for a fast-path turn served from the cache", () => {
    expect(providerMs({ ...base, fastPath: true, fastPathMs: 501, cacheHit: true, cacheReadyMs: 504 })).toBe(
      0,
    );
  });
  it("counts the LLM decision for a cached reply, not the cache read", () => {
    expect(providerMs({ ...base, llmFirstTokenMs: 640, cacheHit: true, cacheReadyMs: 650 })).toBe(140);
  });
  it("counts LLM and TTS up to the first audio for a live turn", () => {
    expect(providerMs({ ...base, llmFirstTokenMs: 640, ttsFirstByteMs: 900 })).toBe(400);
  });
  it("leaves the fast-path classifier's own time in our overhead", () => {
    expect(providerMs({ ...base, fastPath: true, fastPathMs: 503, ttsFirstByteMs: 783 })).toBe(280);
  });
});

const providerMsByTurn = (payloads: Parameters<typeof recordsByTurn>[0], n: number) =>
  recordsByTurn(payloads, n).map((r) => (r === null ? null : providerMs(r)));

describe("recordsByTurn", () => {
  const rec = (turn: number, llm: number) => ({
    turn,
    record: { ...base, llmFirstTokenMs: 500 + llm, cacheHit: true as const },
  });
  it("lines records up with the script by turn number", () => {
    expect(providerMsByTurn([rec(2, 30), rec(1, 10)], 2)).toEqual([10, 30]);
  });
  it("gives up on a call whose turns do not match the script", () => {
    expect(providerMsByTurn([rec(1, 10)], 2)).toEqual([null, null]);
    expect(providerMsByTurn([rec(1, 10), rec(3, 10)], 2)).toEqual([null, null]);
  });
});

describe("overheadHops", () => {
  it("splits the overhead at the Worker's timestamps, leaving provider time out", () => {
    const r = {
      ...base,
      sttFinalMs: 504,
      endpointMs: 504,
      llmFirstTokenMs: 604,
      cacheHit: true as const,
      firstFrameSentMs: 610,
    };
    expect(overheadHops(r, { finalSentAtMs: 501, agentReplyAtMs: 615 })).toEqual({
      toWorkerMs: 3,
      inWorkerMs: 6,
      toPhoneMs: 5,
    });
    expect(overheadHops({ ...base }, { finalSentAtMs: 501, agentReplyAtMs: 615 })).toBeNull();
  });
});
