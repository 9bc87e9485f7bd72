/**
 * How a call the Twilio emulator placed lives on by itself, as at Twilio: `initiated`, `ringing`,
 * answered (or busy / no-answer / failed), then the asynchronous AMD result a few seconds after
 * answer, each callback a separate HTTP request whose arrival may be jittered out of order or
 * repeated. Pure planning; the emulator runs the plan on timers.
 */
import { seededRandom } from "../simulator/amd-timing";

/** Where a placed call ends up when nobody hangs it up first. */
export type CallOutcome = "answered" | "busy" | "no-answer" | "failed";

/** Lifecycle settings (all durations ms). */
export interface TwilioLifecycleOptions {
  /** `auto`: placed calls progress by themselves; `manual`: only through `progressCall` / the control API. */
  mode: "auto" | "manual";
  /** From create to `ringing` (`initiated` is at once). */
  ringAfterMs: number;
  /** From `ringing` to the answer (or to busy / no-answer / failed). */
  answerAfterMs: number;
  /** AMD result for answered calls, unless `byNumber` says otherwise. */
  answeredBy: string;
  /** AMD result after answer: a fixed delay, or seeded-random in [minMs, maxMs] (Twilio: typically 2–5 s). */
  amdDelayMs: number | { minMs: number; maxMs: number };
  /** Each callback leaves after an extra random 0..jitterMs, so close callbacks may arrive out of order. */
  jitterMs: number;
  /** Send every callback twice with the same idempotency token (a retried webhook). */
  duplicates: boolean;
  /** Seed for delays and jitter: the same seed plays the same timings. */
  seed: string;
  /** Per called number (`To`): a different AMD result or outcome. */
  byNumber: Record<string, { answeredBy?: string; outcome?: CallOutcome }>;
}

/** Defaults: auto, Twilio-like timings, a human answers. */
export const DEFAULT_LIFECYCLE: TwilioLifecycleOptions = {
  mode: "auto",
  ringAfterMs: 300,
  answerAfterMs: 2_000,
  answeredBy: "human",
  amdDelayMs: { minMs: 2_000, maxMs: 5_000 },
  jitterMs: 150,
  duplicates: false,
  seed: "twilio",
  byNumber: {},
};

/** One step of a planned call: a status change, or the AMD result. */
export type LifecycleStep =
  | { atMs: number; kind: "status"; status: "initiated" | "ringing" | "in-progress" | CallOutcome }
  | { atMs: number; kind: "amd"; answeredBy: string; detectionMs: number };

/** Merge partial settings (from options or the control API) onto `base`, ignoring wrong types. */
export function mergeLifecycle(
  base: TwilioLifecycleOptions,
  patch: Partial<Record<keyof TwilioLifecycleOptions, unknown>>,
): TwilioLifecycleOptions {
  const out = { ...base };
  if (patch.mode === "auto" || patch.mode === "manual") out.mode = patch.mode;
  for (const k of ["ringAfterMs", "answerAfterMs", "jitterMs"] as const) {
    const v = patch[k];
    if (typeof v === "number" && v >= 0) out[k] = v;
  }
  if (typeof patch.answeredBy === "string") out.answeredBy = patch.answeredBy;
  const d = patch.amdDelayMs;
  if (typeof d === "number" && d >= 0) out.amdDelayMs = d;
  else if (typeof d === "object" && d !== null) {
    const { minMs, maxMs } = d as Record<string, unknown>;
    if (typeof minMs === "number" && typeof maxMs === "number" && minMs >= 0 && maxMs >= minMs) {
      out.amdDelayMs = { minMs, maxMs };
    }
  }
  if (typeof patch.duplicates === "boolean") out.duplicates = patch.duplicates;
  if (typeof patch.seed === "string" || typeof patch.seed === "number") out.seed = String(patch.seed);
  if (typeof patch.byNumber === "object" && patch.byNumber !== null) {
    out.byNumber = patch.byNumber as TwilioLifecycleOptions["byNumber"];
  }
  return out;
}

/**
 * The steps of one placed call, times relative to create. `asyncAmd`: the call asked for async AMD
 * with a callback URL (only then is there an AMD step).
 */
export function planLifecycle(
  opts: TwilioLifecycleOptions,
  call: { to: string; asyncAmd: boolean },
  random: () => number,
): LifecycleStep[] {
  const per = opts.byNumber[call.to] ?? {};
  const outcome = per.outcome ?? "answered";
  const ringAt = opts.ringAfterMs;
  const answerAt = ringAt + opts.answerAfterMs;
  const steps: LifecycleStep[] = [
    { atMs: 0, kind: "status", status: "initiated" },
    { atMs: ringAt, kind: "status", status: "ringing" },
  ];
  if (outcome !== "answered") {
    steps.push({ atMs: answerAt, kind: "status", status: outcome });
    return steps;
  }
  steps.push({ atMs: answerAt, kind: "status", status: "in-progress" });
  if (call.asyncAmd) {
    const d = opts.amdDelayMs;
    const detectionMs =
      typeof d === "number" ? d : Math.round(d.minMs + random() * Math.max(0, d.maxMs - d.minMs));
    steps.push({
      atMs: answerAt + detectionMs,
      kind: "amd",
      answeredBy: per.answeredBy ?? opts.answeredBy,
      detectionMs,
    });
  }
  return steps;
}

/** A seeded random source for the n-th placed call: calls differ from each other, runs replay alike. */
export function callRandom(opts: TwilioLifecycleOptions, ordinal: number): () => number {
  return seededRandom(`${opts.seed}:${ordinal}`);
}

/** Twilio's `Timestamp` field: RFC 2822 in UTC (`Tue, 03 Mar 2026 09:00:00 +0000`). */
export function twilioTimestamp(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, "+0000");
}
