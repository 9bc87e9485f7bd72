/** Config and logger per Worker isolate, parsed once per distinct `env` object. */
import { createLogger, type Logger } from "../lib/log";
import { type AppConfig, announceLocalAdapters, parseConfig } from "./config";

const cache = new WeakMap<object, AppConfig>();

/** Parse (once per env object) and announce local adapters. Throws ConfigError on malformed values. */
export function configFor(env: object): AppConfig {
  const hit = cache.get(env);
  if (hit) return hit;
  const config = parseConfig(env as Record<string, unknown>);
  cache.set(env, config);
  announceLocalAdapters(config, createLogger({ component: "config" }, config.logLevel));
  return config;
}

/** A logger at the configured level with base fields. */
export function loggerFor(config: AppConfig, fields: Record<string, unknown>): Logger {
  return createLogger(fields, config.logLevel);
}
