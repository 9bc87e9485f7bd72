/**
 * `GET /healthz`: the public learns only that the Worker is up and its build version. With the admin
 * bearer token it also says which adapter each port uses and which credentials are missing or
 * malformed (by variable name): what an attacker must not learn, and what an operator needs.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { adapterReport } from "../config/config";
import { sha256Hex, timingSafeEqualString } from "../integrations/crypto";

/** Whether `authorization` carries the admin token (compared as digests: constant time, no length leak). */
async function isAdmin(adminToken: string | undefined, authorization: string | undefined): Promise<boolean> {
  if (adminToken === undefined) return false;
  const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  return given !== undefined && timingSafeEqualString(await sha256Hex(given), await sha256Hex(adminToken));
}

export const healthRoutes = new Hono<AppEnv>().get("/healthz", async (c) => {
  const config = c.get("config");
  c.header("cache-control", "no-store");
  const up = { ok: true, version: config.buildVersion };
  if (!(await isAdmin(config.adminToken, c.req.header("authorization")))) return c.json(up);
  return c.json({
    ...up,
    adapters: adapterReport(config),
    unconfigured: config.unconfigured.map(({ variable, problem }) => ({ variable, problem })),
  });
});
