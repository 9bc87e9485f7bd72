/**
 * The embedded edge store's resettable windows, session epochs, hashed do-not-call set and expiring
 * call variables, on a fake clock over in-memory storage.
 */
import { describe, expect, it } from "vitest";
import { EdgeStoreCore, memoryEdgeStorage, suppressionHash } from "../../src/lead/edge-store";

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

  it("stores a do-not-call number as its hash with time and source, and keeps the first opt-out", async () => {
    let nowMs = 1_000;
    const storage = memoryEdgeStorage();
    const store = new EdgeStoreCore(storage, () => nowMs);
    await store.addSuppression("+447700900123", "call");
    nowMs = 2_000;
    await store.addSuppression("+447700900123", "sms");
    const entries = await storage.list({ prefix: "sup:" });
    expect([...entries.keys()]).toEqual([`sup:${await suppressionHash("+447700900123")}`]);
    expect([...entries.values()]).toEqual([{ source: "call", atMs: 1_000 }]);
    expect(JSON.stringify([...entries])).not.toContain("7700900123");
    expect(await store.isSuppressed("+447700900123")).toBe(true);
    expect(await store.isSuppressed("+447700900124")).toBe(false);
  });

  it("still blocks a plain entry written before hashing, and minimising turns it into the hash", async () => {
    const storage = memoryEdgeStorage();
    const store = new EdgeStoreCore(storage, () => 5_000);
    await storage.put("sup:+447700900123", { source: "call", atMs: 1_000 });
    expect(await store.isSuppressed("+447700900123")).toBe(true);
    await store.minimiseSuppression("+447700900123");
    await store.minimiseSuppression("+447700900999");
    const entries = await storage.list({ prefix: "sup:" });
    expect([...entries]).toEqual([
      [`sup:${await suppressionHash("+447700900123")}`, { source: "call", atMs: 1_000 }],
    ]);
    expect(await store.isSuppressed("+447700900123")).toBe(true);
    expect(await store.isSuppressed("+447700900999")).toBe(false);
  });

  it("keeps a lead's call variables until their TTL, then sweeps them", async () => {
    let nowMs = 0;
    const store = new EdgeStoreCore(memoryEdgeStorage(), () => nowMs);
    await store.putLeadCallVars("lead-1", { first_name: "Jo" }, 60);
    expect(await store.leadCallVars("lead-1")).toEqual({ first_name: "Jo" });
    nowMs = 61_000;
    expect(await store.leadCallVars("lead-1")).toBeUndefined();
    expect(await store.sweep()).toBe(0);
  });
});
