/**
 * The dashboard as a Hono app on its own, with the Worker's per-request config and logger, for Node
 * tools that serve or time it without workerd (the dashboard bench, browser tests). The Worker mounts
 * the same `dashboardRoutes` in `src/index.ts`. Without an EDGE_STATE binding (Node has no Durable
 * Objects) the app keeps its login limits and session epochs in memory, for its own lifetime.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { configFor, loggerFor } from "../config/context";
import { memoryEdgeNamespace } from "../lead/edge-ports";
import { dashboardRoutes } from "../routes/dashboard";

/** A Hono app serving only `/dashboard*`; pass the bindings (`env`) to `app.fetch`/`app.request`. */
export function standaloneDashboardApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const edgeState = memoryEdgeNamespace();
  app.use(async (c, next) => {
    // The stand-in covers only what edgePortsFor calls (idFromName, get).
    if (c.env.EDGE_STATE === undefined)
      c.env = { ...c.env, EDGE_STATE: edgeState as unknown as AppEnv["Bindings"]["EDGE_STATE"] };
    const config = configFor(c.env);
    c.set("config", config);
    c.set("requestId", crypto.randomUUID());
    c.set("log", loggerFor(config, { route: c.req.path }));
    await next();
  });
  app.route("/", dashboardRoutes);
  return app;
}
