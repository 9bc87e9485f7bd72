import { createExecutionContext, env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../../src/index";

const ADMIN_TOKEN = "health-admin-token-0123456789";

async function health(bindings: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await app.fetch(
    new Request("https://agent.example/healthz", { headers }),
    bindings,
    createExecutionContext(),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /healthz", () => {
  it("tells the public only that it is up and its version", async () => {
    const res = await SELF.fetch("https://agent.example/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, version: "test" });
  });

  it("shows the adapter table only with the admin token, without secrets", async () => {
    const bindings = { ...env, ADMIN_TOKEN };
    expect((await health(bindings, { authorization: "Bearer wrong-token-0123456789abcdef" })).body).toEqual({
      ok: true,
      version: "test",
    });
    const { body } = await health(bindings, { authorization: `Bearer ${ADMIN_TOKEN}` });
    const adapters = body.adapters as Record<string, string>;
    expect(adapters.stt).toBe("local");
    expect(adapters.callState).toBe("local");
    expect(body.unconfigured).toEqual([]);
    expect(JSON.stringify(body)).not.toMatch(/local-.*-key|token/i);
  });

  it("names missing credentials to the admin, and never says 'local' to the public, outside local development", async () => {
    const bindings = { ...env, LOCAL_STAND_INS: "false", ADMIN_TOKEN };
    const open = await health(bindings);
    expect(open.body).toEqual({ ok: true, version: "test" });
    const { body } = await health(bindings, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect((body.adapters as Record<string, string>).telephony).toBe("unconfigured");
    expect(body.unconfigured).toContainEqual({ variable: "TWILIO_AUTH_TOKEN", problem: "missing" });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await SELF.fetch("https://agent.example/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
