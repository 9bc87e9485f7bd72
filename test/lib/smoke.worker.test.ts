import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
describe("smoke worker", () => { it("fetches", async () => { const r = await SELF.fetch("http://x/healthz"); expect(r.status).toBe(200); }); });
