/**
 * Structured logging. Message text is a fixed, human-readable phrase; everything variable goes in
 * `fields`. Personal data (phone numbers, transcripts, DTMF digits, emails) must only ever be passed
 * in fields whose names are listed in PII_FIELDS, which are redacted at any depth; the sink also scrubs
 * phone numbers and emails out of every string and truncates client IPs.
 */
import { ProviderError } from "./errors";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export const PII_FIELDS = new Set([
  "from",
  "to",
  "phone",
  "number",
  "email",
  "name",
  "transcript",
  "text",
  "digit",
  "digits",
  "caller",
  "callee",
]);

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Field names carrying a client IP: logged truncated (IPv4 /24, IPv6 /48), never whole. */
const IP_FIELDS = new Set([
  "ip",
  "clientip",
  "client_ip",
  "remoteip",
  "remote_ip",
  "cf-connecting-ip",
  "x-forwarded-for",
]);

/** E.164-looking numbers (also with spaces or dashes inside) and email addresses, anywhere in a string. */
const PHONE_PATTERN = /\+[1-9](?:[ -]?\d){6,14}/g;
const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const MAX_DEPTH = 8;

/** Remove numbers and emails from free text (provider error messages, URLs, anything). */
export function scrubText(text: string): string {
  return text.replace(EMAIL_PATTERN, "[email]").replace(PHONE_PATTERN, "[number]");
}

/** A client IP cut to its network: `203.0.113.0/24`, `2001:db8:1::/48`. */
export function truncateIp(ip: string): string {
  const first = ip.split(",")[0]?.trim() ?? "";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(first);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  if (first.includes(":")) return `${first.split(":").slice(0, 3).join(":")}::/48`;
  return "[ip]";
}

function redactValue(key: string, value: unknown, depth: number): unknown {
  const k = key.toLowerCase();
  if (PII_FIELDS.has(k)) return "[redacted]";
  if (IP_FIELDS.has(k)) return typeof value === "string" ? truncateIp(value) : "[ip]";
  if (typeof value === "string") return scrubText(value);
  if (value instanceof Error) return redactValue(key, errorFields(value), depth);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => redactValue("", v, depth + 1));
  const out: LogFields = {};
  for (const [ck, cv] of Object.entries(value)) out[ck] = redactValue(ck, cv, depth + 1);
  return out;
}

/**
 * Replace personal-data fields with a marker at any depth, scrub phone numbers and emails out of
 * every string, and cut client IPs to their network, so logs can be shipped anywhere.
 */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) out[k] = redactValue(k, v, 0);
  return out;
}

/**
 * What may be logged about an error: a provider failure is its provider, status, code and request id
 * (its message can quote the number we dialled); anything else is its name and scrubbed message.
 */
export function errorFields(err: unknown): LogFields {
  if (err instanceof ProviderError) {
    return {
      name: err.name,
      provider: err.provider,
      status: err.status ?? null,
      code: err.code ?? null,
      retryable: err.retryable,
      ...(err.requestId ? { requestId: err.requestId } : {}),
    };
  }
  if (err instanceof Error) return { name: err.name, message: scrubText(err.message) };
  return { message: scrubText(String(err)) };
}

export type LogSink = (level: LogLevel, msg: string, fields: LogFields) => void;

const consoleSink: LogSink = (level, msg, fields) => {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

/** Create a logger. `minLevel` drops chattier levels; `sink` defaults to one JSON line per record on the console. */
export function createLogger(
  base: LogFields = {},
  minLevel: LogLevel = "info",
  sink: LogSink = consoleSink,
): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (order[level] < order[minLevel]) return;
    sink(level, scrubText(msg), redact({ ...base, ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger({ ...base, ...f }, minLevel, sink),
  };
}
