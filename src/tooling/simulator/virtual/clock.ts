/**
 * A virtual clock for whole calls: the engine's timers and every fake provider's delays run on it, so
 * a two-minute call takes milliseconds and every run of a scenario is identical. Time only moves when
 * `runUntil` moves it; between two due timers every pending promise callback is allowed to settle.
 */
import type { Timers } from "../../../call/ports";

interface Entry {
  atMs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Let every queued promise callback run (macrotask boundary; microtasks drain before it). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class VirtualClock {
  private queue: Entry[] = [];
  private seq = 0;
  /** Timer callbacks that threw (a thrown timer is a bug the invariants report). */
  readonly errors: unknown[] = [];

  constructor(private now: number) {}

  nowMs(): number {
    return this.now;
  }

  /** Run `fn` once `delayMs` of virtual time has passed; returns its cancel function. */
  after(delayMs: number, fn: () => void): () => void {
    const entry: Entry = { atMs: this.now + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    // Kept sorted by (time, insertion order): equal times fire in the order they were set.
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]?.atMs ?? 0) > entry.atMs) i--;
    this.queue.splice(i, 0, entry);
    return () => {
      entry.cancelled = true;
    };
  }

  /** A promise that resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.after(ms, resolve));
  }

  /** The engine's `Timers` port on this clock. */
  timers(): Timers {
    const named = new Map<string, () => void>();
    return {
      set: (name, delayMs, fn) => {
        named.get(name)?.();
        const cancel = this.after(delayMs, () => {
          if (named.get(name) === cancel) named.delete(name);
          fn();
        });
        named.set(name, cancel);
      },
      clear: (name) => {
        named.get(name)?.();
        named.delete(name);
      },
      clearAll: () => {
        for (const cancel of named.values()) cancel();
        named.clear();
      },
      after: (delayMs, fn) => this.after(delayMs, fn),
    };
  }

  /** Whether any timer is still due. */
  get idle(): boolean {
    return this.queue.every((e) => e.cancelled);
  }

  /**
   * Fire due timers in order until `endMs` (or `stop()` says so), settling promises after each.
   * Time ends at `endMs` even when nothing was due then.
   */
  async runUntil(endMs: number, stop: () => boolean = () => false): Promise<void> {
    await settle();
    while (!stop()) {
      const next = this.queue[0];
      if (next === undefined || next.atMs > endMs) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.now = next.atMs;
      try {
        next.fn();
      } catch (err) {
        this.errors.push(err);
      }
      await settle();
    }
    if (!stop()) this.now = Math.max(this.now, endMs);
  }
}
