/**
 * Structured logging. Message text is a fixed, human-readable phrase; everything variable goes in
 * `fields`. Personal data (phone numbers, transcripts, DTMF digits, emails) must only ever be passed
 * in fields whose names are listed in PII_FIELDS, which are redacted unless LOG_PII is enabled.
 */
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

/** Replace personal-data fields with a marker so logs can be shipped anywhere. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = PII_FIELDS.has(k.toLowerCase()) ? "[redacted]" : v;
  }
  return out;
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
    sink(level, msg, redact({ ...base, ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (f) => createLogger({ ...base, ...f }, minLevel, sink),
  };
}
