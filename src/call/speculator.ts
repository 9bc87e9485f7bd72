/**
 * Speculative turn decisions: once an interim transcript is stable, decide the turn on it before
 * endpointing completes; when the final transcript matches, the decision is already there, otherwise
 * it is discarded. Decisions are pure (fast path) or one aborted LLM request; nothing is spoken early.
 */
import {
  DEFAULT_SPECULATION,
  decideSpeculation,
  initialSpeculation,
  markSpeculationStarted,
  matchesSpeculation,
  observeInterim,
  type SpeculationState,
} from "../turn/speculative";
import type { TurnOutcome } from "./decide";

interface Running {
  text: string;
  stateId: string;
  outcome: Promise<TurnOutcome>;
  abort: AbortController;
  /** Cancels the request's deadline. */
  cancelDeadline: () => void;
}

export class Speculator {
  private state: SpeculationState = initialSpeculation();
  private running: Running | null = null;
  /** Re-check after the stability window: no interim arrives while the caller pauses. */
  private recheck: (() => void) | null = null;
  /** Speculations started, used and discarded (for the turn's audit record). */
  readonly stats = { started: 0, used: 0, discarded: 0 };

  constructor(
    private readonly decide: (text: string, signal: AbortSignal) => Promise<TurnOutcome>,
    private readonly timeoutMs: number,
    private readonly nowMs: () => number,
    /** One-shot timer on the call's clock; returns its cancel function. */
    private readonly after: (delayMs: number, fn: () => void) => () => void,
  ) {}

  /** An interim arrived while `stateId` listens; may start a speculative decision now or once it stays stable. */
  interim(text: string, stateId: string): void {
    this.state = observeInterim(this.state, text, this.nowMs());
    this.evaluate(stateId);
    this.recheck?.();
    this.recheck = this.after(DEFAULT_SPECULATION.stableForMs + 10, () => {
      this.recheck = null;
      this.evaluate(stateId);
    });
  }

  private evaluate(stateId: string): void {
    const d = decideSpeculation(this.state, this.nowMs());
    if (!d.start) return;
    this.state = markSpeculationStarted(this.state, d.key);
    this.stop();
    const abort = new AbortController();
    const cancelDeadline = this.after(this.timeoutMs, () => abort.abort());
    this.stats.started++;
    this.running = {
      text: d.text,
      stateId,
      outcome: this.decide(d.text, abort.signal),
      abort,
      cancelDeadline,
    };
  }

  /** The turn ended: the speculative outcome if it was decided on the same words in the same state. */
  take(finalText: string, stateId: string): Promise<TurnOutcome> | null {
    this.recheck?.();
    this.recheck = null;
    const r = this.running;
    this.running = null;
    this.state = initialSpeculation();
    if (!r) return null;
    if (r.stateId === stateId && matchesSpeculation(r.text, finalText)) {
      this.stats.used++;
      return r.outcome.finally(r.cancelDeadline);
    }
    this.discard(r);
    return null;
  }

  /** Forget everything (barge-in, state change, DTMF). */
  cancel(): void {
    this.recheck?.();
    this.recheck = null;
    this.stop();
    this.state = initialSpeculation();
  }

  private stop(): void {
    const r = this.running;
    this.running = null;
    if (r) this.discard(r);
  }

  private discard(r: Running): void {
    this.stats.discarded++;
    r.cancelDeadline();
    r.abort.abort();
    r.outcome.catch(() => undefined);
  }
}
