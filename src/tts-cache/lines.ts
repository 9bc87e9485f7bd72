/**
 * Which lines of a flow can be pre-rendered (pure): every spoken template with no `{{variables}}`,
 * rendered exactly as the interpreter will speak it, so its content key matches the one looked up
 * at call time.
 */
import type { Flow } from "../flow/schema";
import { renderTemplate } from "../flow/template";

/** One deterministic line: where the flow speaks it (`lineId` as in the interpreter's `say` effects) and its text. */
export interface CacheableLine {
  stateId: string;
  lineId: string;
  text: string;
}

/** The spoken fields of a state, in the order the interpreter speaks them, with their line keys. */
const SPOKEN_FIELDS = [
  { key: "hold", pick: (s: Flow["states"][string]) => s.hold },
  { key: "say", pick: (s: Flow["states"][string]) => s.say },
  { key: "ask", pick: (s: Flow["states"][string]) => s.ask },
  { key: "reprompt", pick: (s: Flow["states"][string]) => s.reprompt?.say },
] as const;

/**
 * Every deterministic line of `flow` (`say`, `ask`, `hold` and `reprompt.say`, including the flow's own
 * reprompt state), in state order. A line is deterministic when its template has no variables: rendering
 * it with no values yields exactly the text the call speaks. Lines that render to nothing are skipped.
 * Identical texts in different states are all listed; they share one content key.
 */
export function cacheableLines(flow: Flow): CacheableLine[] {
  const out: CacheableLine[] = [];
  for (const [stateId, state] of Object.entries(flow.states)) {
    for (const field of SPOKEN_FIELDS) {
      const template = field.pick(state);
      if (template === undefined) continue;
      const rendered = renderTemplate(template, {});
      if (!rendered.cacheable || rendered.text === "") continue;
      out.push({ stateId, lineId: `${stateId}.${field.key}`, text: rendered.text });
    }
  }
  return out;
}
