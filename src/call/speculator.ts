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
  timer: ReturnType<typeof setTimeout>;
}

export class Speculator {
  private state: SpeculationState = initialSpeculation();
  private running: Running | null = null;
  /** Re-check after the stability window: no interim arrives while the caller pauses. */
  private recheck: ReturnType<typeof setTimeout> | null = null;
  /** Speculations started, used and discarded (for the turn's audit record). */
  readonly stats = { started: 0, used: 0, discarded: 0 };

  constructor(
    private readonly decide: (text: string, signal: AbortSignal) => Promise<TurnOutcome>,
    private readonly timeoutMs: number,
    private readonly nowMs: () => number,
  ) {}

  /** An interim arrived while `stateId` listens; may start a speculative decision now or once it stays stable. */
  interim(text: string, stateId: string): void {
    this.state = observeInterim(this.state, text, this.nowMs());
    this.evaluate(stateId);
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = setTimeout(() => {
      this.recheck = null;
      this.evaluate(stateId);
    }, DEFAULT_SPECULATION.stableForMs + 10);
  }

  private evaluate(stateId: string): void {
    const d = decideSpeculation(this.state, this.nowMs());
    if (!d.start) return;
    this.state = markSpeculationStarted(this.state, d.key);
    this.stop();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    this.stats.started++;
    this.running = { text: d.text, stateId, outcome: this.decide(d.text, abort.signal), abort, timer };
  }

  /** The turn ended: the speculative outcome if it was decided on the same words in the same state. */
  take(finalText: string, stateId: string): Promise<TurnOutcome> | null {
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = null;
    const r = this.running;
    this.running = null;
    this.state = initialSpeculation();
    if (!r) return null;
    if (r.stateId === stateId && matchesSpeculation(r.text, finalText)) {
      this.stats.used++;
      return r.outcome.finally(() => clearTimeout(r.timer));
    }
    this.discard(r);
    return null;
  }

  /** Forget everything (barge-in, state change, DTMF). */
  cancel(): void {
    if (this.recheck) clearTimeout(this.recheck);
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
    clearTimeout(r.timer);
    r.abort.abort();
    r.outcome.catch(() => undefined);
  }
}
