/**
 * The dashboard as a Hono app on its own, with the Worker's per-request config and logger, for Node
 * tools that serve or time it without workerd (the dashboard bench, browser tests). The Worker mounts
 * the same `dashboardRoutes` in `src/index.ts`.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { configFor, loggerFor } from "../config/context";
import { dashboardRoutes } from "../routes/dashboard";

/** A Hono app serving only `/dashboard*`; pass the bindings (`env`) to `app.fetch`/`app.request`. */
export function standaloneDashboardApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    const config = configFor(c.env);
    c.set("config", config);
    c.set("requestId", crypto.randomUUID());
    c.set("log", loggerFor(config, { route: c.req.path }));
    await next();
  });
  app.route("/", dashboardRoutes);
  return app;
}
