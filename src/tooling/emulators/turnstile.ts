/**
 * Cloudflare Turnstile siteverify emulator (Node): `POST /turnstile/v0/siteverify`, form-encoded or
 * JSON, answered the way Cloudflare documents its dummy test secrets: `1x…AA` always passes (for the
 * dummy token), `2x…AA` always fails, `3x…AA` says the token was already spent. Any other secret is
 * `invalid-input-secret`. Every request is recorded, so a test can see which tokens were checked.
 */
import {
  asRecord,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";

/** Cloudflare's documented dummy secret keys. */
export const TURNSTILE_TEST_SECRETS = {
  alwaysPasses: "1x0000000000000000000000000000000AA",
  alwaysFails: "2x0000000000000000000000000000000AA",
  alreadySpent: "3x0000000000000000000000000000000AA",
} as const;

/** The token Cloudflare's dummy sitekeys hand the browser. */
export const TURNSTILE_DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX";

/** Options: the hostname a passing answer reports (Cloudflare's dummy keys report `example.com`). */
export interface TurnstileEmulatorOptions extends EmulatorBaseOptions {
  hostname?: string;
}

const MAX_TOKEN_CHARS = 2_048;

function answer(success: boolean, errors: string[], hostname?: string): EmulatorResponse {
  return {
    status: 200,
    body: success
      ? {
          success,
          challenge_ts: new Date().toISOString(),
          hostname,
          "error-codes": [],
          action: "",
          cdata: "",
        }
      : { success, "error-codes": errors },
  };
}

/** Start the Turnstile emulator. */
export async function startTurnstileEmulator(
  options: TurnstileEmulatorOptions = {},
): Promise<EmulatorControls> {
  const hostname = options.hostname ?? "example.com";
  let verified = 0;

  const siteverify = (req: RecordedRequest): EmulatorResponse => {
    if (req.method !== "POST")
      return { status: 405, body: { success: false, "error-codes": ["bad-request"] } };
    const isJson = (req.headers["content-type"] ?? "").includes("application/json");
    const fields: Record<string, unknown> = isJson
      ? (asRecord(tryJson(req.body)) ?? {})
      : Object.fromEntries(new URLSearchParams(req.body));
    const secret = typeof fields.secret === "string" ? fields.secret : "";
    const token = typeof fields.response === "string" ? fields.response : "";
    if (secret === "") return answer(false, ["missing-input-secret"]);
    if (token === "") return answer(false, ["missing-input-response"]);
    if (token.length > MAX_TOKEN_CHARS) return answer(false, ["invalid-input-response"]);
    switch (secret) {
      case TURNSTILE_TEST_SECRETS.alwaysPasses:
        if (token !== TURNSTILE_DUMMY_TOKEN) return answer(false, ["invalid-input-response"]);
        verified++;
        return answer(true, [], hostname);
      case TURNSTILE_TEST_SECRETS.alwaysFails:
        return answer(false, ["invalid-input-response"]);
      case TURNSTILE_TEST_SECRETS.alreadySpent:
        return answer(false, ["timeout-or-duplicate"]);
      default:
        return answer(false, ["invalid-input-secret"]);
    }
  };

  return startHttpEmulator(
    {
      name: "turnstile",
      state: () => ({ verified }),
      reset: () => {
        verified = 0;
      },
      handle: (req) =>
        req.path === "/turnstile/v0/siteverify"
          ? siteverify(req)
          : { status: 404, body: { success: false, "error-codes": ["bad-request"] } },
    },
    options,
  );
}
