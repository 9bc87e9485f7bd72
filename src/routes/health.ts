/** `GET /healthz`: liveness plus which adapter each port uses and the build version. No secrets. */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { adapterReport } from "../config/config";

export const healthRoutes = new Hono<AppEnv>().get("/healthz", (c) => {
  const config = c.get("config");
  return c.json({ ok: true, version: config.buildVersion, adapters: adapterReport(config) });
});
