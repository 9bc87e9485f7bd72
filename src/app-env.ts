/** The Hono environment shared by every route group: bindings plus per-request config and logger. */
import type { AppConfig } from "./config/config";
import type { Logger } from "./lib/log";

export type AppBindings = Env & Record<string, unknown>;

export interface AppEnv {
  Bindings: AppBindings;
  Variables: { config: AppConfig; log: Logger; requestId: string };
}
