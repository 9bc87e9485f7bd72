/** Shared HTTP plumbing for REST/streaming adapters: timeouts + abort, error mapping, body streaming, base64. */
import { ProviderError } from "../lib/errors";

/** Combine an optional caller signal with a timeout. */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/** Pull a short error code out of common vendor error bodies (ElevenLabs `detail`, OpenAI/Google `error`). */
export function errorCodeFromBody(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const rec = parsed as Record<string, unknown>;
    const detail = rec.detail;
    if (typeof detail === "object" && detail !== null && !Array.isArray(detail)) {
      const d = detail as Record<string, unknown>;
      if (typeof d.status === "string") return d.status;
      if (typeof d.code === "string") return d.code;
    }
    const error = rec.error;
    if (typeof error === "object" && error !== null) {
      const e = error as Record<string, unknown>;
      if (typeof e.code === "string") return e.code;
      if (typeof e.status === "string") return e.status;
    }
    if (typeof rec.err_code === "string") return rec.err_code;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Codes that mean "stop trying" even though they arrive with a retryable-looking status. */
const NON_RETRYABLE_CODES = new Set(["insufficient_quota", "quota_exceeded"]);

/** Turn a non-2xx response into a typed ProviderError (reads the body). */
export async function responseError(provider: string, resp: Response): Promise<ProviderError> {
  let body = "";
  try {
    body = (await resp.text()).slice(0, 1000);
  } catch {
    body = "";
  }
  const code = errorCodeFromBody(body);
  const requestId = resp.headers.get("x-request-id") ?? resp.headers.get("request-id") ?? undefined;
  return new ProviderError(
    provider,
    `HTTP ${resp.status}${code === undefined ? "" : ` ${code}`}`,
    resp.status,
    {
      requestId,
      ...(code !== undefined && NON_RETRYABLE_CODES.has(code) ? { retryable: false } : {}),
    },
  );
}

/** Map a thrown fetch/stream failure to a ProviderError; caller aborts are not retryable. */
export function thrownError(provider: string, cause: unknown, callerSignal?: AbortSignal): ProviderError {
  if (cause instanceof ProviderError) return cause;
  if (callerSignal?.aborted === true) {
    return new ProviderError(provider, "request aborted", undefined, { retryable: false, cause });
  }
  const name = cause instanceof Error ? cause.name : "";
  const message = name === "TimeoutError" ? "request timed out" : "network failure";
  return new ProviderError(provider, message, undefined, { cause });
}

/** Stream a response body as byte chunks, mapping failures to ProviderError. */
export async function* streamBody(
  provider: string,
  resp: Response,
  callerSignal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (resp.body === null) return;
  const reader = resp.body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw thrownError(provider, cause, callerSignal);
      }
      if (chunk.done) return;
      if (chunk.value.byteLength > 0) yield chunk.value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Base64 → bytes without Node APIs. */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes → base64 without Node APIs. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) {
    bin += String.fromCharCode(...bytes.subarray(i, i + step));
  }
  return btoa(bin);
}
