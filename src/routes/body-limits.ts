/**
 * Body-size caps on every route, enforced before anything parses the body: by `Content-Length` when
 * the request declares one, else by counting the streamed bytes. A route group with larger bodies
 * (a batch of campaign leads, a Cal.com booking) has its own cap; everything else gets the default.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app-env";
import { AppError } from "../lib/errors";

/** Default cap: Twilio webhooks, dashboard forms and admin calls are a few KB. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Larger caps by path prefix (first match wins). */
export const BODY_LIMITS_BYTES: readonly (readonly [prefix: string, maxBytes: number])[] = [
  // Up to 1,000 leads of a few hundred bytes each.
  ["/api/campaigns", 1024 * 1024],
  // Cal.com booking payloads carry the attendee list and responses.
  ["/webhooks/booking", 256 * 1024],
];

function limited(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(413, "body_too_large", `Body must be at most ${maxSize} bytes`);
    },
  });
}

const byPrefix = BODY_LIMITS_BYTES.map(([prefix, bytes]) => [prefix, limited(bytes)] as const);
const byDefault = limited(DEFAULT_BODY_LIMIT_BYTES);

/** The cap for `path`, in bytes. */
export function bodyLimitFor(path: string): number {
  return BODY_LIMITS_BYTES.find(([prefix]) => path.startsWith(prefix))?.[1] ?? DEFAULT_BODY_LIMIT_BYTES;
}

/** Middleware: refuse a body over its route's cap with 413 `body_too_large`. */
export const bodyLimits: MiddlewareHandler<AppEnv> = (c, next) => {
  const handler = byPrefix.find(([prefix]) => c.req.path.startsWith(prefix))?.[1] ?? byDefault;
  return handler(c, next);
};
