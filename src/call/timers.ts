/**
 * The call's timers on the runtime's clock (`setTimeout`): what the Durable Object and the Node
 * harnesses hand the engine. Tests and the property suite hand it virtual timers instead.
 */
import type { Timers } from "./ports";

/** Named one-shot timers plus unnamed deadlines, on the real clock. */
export function createTimers(): Timers {
  const named = new Map<string, ReturnType<typeof setTimeout>>();
  return {
    set(name, delayMs, fn) {
      clearTimeout(named.get(name));
      named.set(
        name,
        setTimeout(() => {
          named.delete(name);
          fn();
        }, delayMs),
      );
    },
    clear(name) {
      clearTimeout(named.get(name));
      named.delete(name);
    },
    clearAll() {
      for (const t of named.values()) clearTimeout(t);
      named.clear();
    },
    after(delayMs, fn) {
      const t = setTimeout(fn, delayMs);
      return () => clearTimeout(t);
    },
  };
}
