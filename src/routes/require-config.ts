/**
 * Fail closed: a route declares the credentials it needs, and answers 503 when any is missing (outside
 * local development) or malformed. The body says only that the service is not configured; the log
 * names the variable (never its value) so the operator knows which secret to set.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { AppConfig, Need } from "../config/config";
import { AppError } from "../lib/errors";
import type { Logger } from "../lib/log";

/** Throw a 503 `not_configured` if `config` lacks a credential for any of `needs`. */
export function assertConfigured(config: AppConfig, log: Logger, needs: readonly Need[]): void {
  const problems = config.unconfigured.filter((p) => needs.includes(p.need));
  if (problems.length === 0) return;
  log.error("route refused: credential missing or malformed", {
    variables: [...new Set(problems.map((p) => p.variable))],
    problems: [...new Set(problems.map((p) => `${p.variable}:${p.problem}`))],
  });
  throw new AppError(503, "not_configured", "This service is not configured on this deployment");
}

/** Middleware form of `assertConfigured`, placed before anything reads the body. */
export function requireConfigured(...needs: Need[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertConfigured(c.get("config"), c.get("log"), needs);
    await next();
  };
}
