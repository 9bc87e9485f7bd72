/** The embedded edge store's resettable windows and session epochs, on a fake clock over in-memory storage. */
import { describe, expect, it } from "vitest";
import { EdgeStoreCore, memoryEdgeStorage } from "../../src/lead/edge-store";

describe("EdgeStoreCore", () => {
  it("clears a rate-limit window on reset, so a success starts the failure count again", async () => {
    let nowMs = 1_000_000;
    const store = new EdgeStoreCore(memoryEdgeStorage(), () => nowMs);
    for (let i = 0; i < 3; i++) await store.limit("k", 3, 900);
    expect((await store.limit("k", 3, 900)).allowed).toBe(false);
    await store.resetLimit("k", 900);
    expect(await store.limit("k", 3, 900)).toMatchObject({ allowed: true, remaining: 2 });
    nowMs += 900_000;
    expect(await store.limit("k", 3, 900)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it("keeps one session epoch per name until rotated, then a higher version with a new secret", async () => {
    const store = new EdgeStoreCore(memoryEdgeStorage(), () => 0);
    const first = await store.sessionEpoch("dashboard");
    expect(first.version).toBe(1);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.sessionEpoch("dashboard")).toEqual(first);
    const next = await store.rotateSessionEpoch("dashboard");
    expect(next.version).toBe(2);
    expect(next.secret).not.toBe(first.secret);
    expect(await store.sessionEpoch("dashboard")).toEqual(next);
    expect((await store.sessionEpoch("other")).secret).not.toBe(next.secret);
  });

  it("never sweeps session epochs away", async () => {
    let nowMs = 0;
    const store = new EdgeStoreCore(memoryEdgeStorage(), () => nowMs);
    const epoch = await store.sessionEpoch("dashboard");
    await store.limit("k", 1, 1);
    nowMs = 10 * 86_400_000;
    expect(await store.sweep()).toBe(0);
    expect(await store.sessionEpoch("dashboard")).toEqual(epoch);
  });
});
