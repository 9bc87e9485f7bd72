import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("GET /healthz", () => {
  it("reports the build version and which adapter each port uses, without secrets", async () => {
    const res = await SELF.fetch("https://agent.example/healthz");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; version: string; adapters: Record<string, string> };
    expect(body.ok).toBe(true);
    expect(body.version).toBe("test");
    expect(body.adapters.stt).toBe("local");
    expect(body.adapters.callState).toBe("local");
    expect(JSON.stringify(body)).not.toMatch(/local-.*-key|token/i);
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await SELF.fetch("https://agent.example/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
