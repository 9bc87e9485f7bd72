/** The flows bundled with the Worker, parsed once per isolate and looked up by id. */

import type { Flow } from "../flow/schema";
import { parseFlow } from "../flow/schema";
import inboundTriage from "../flows/inbound-triage.json";
import outboundBooking from "../flows/outbound-booking.json";

const RAW: Record<string, unknown> = {
  "outbound-booking": outboundBooking,
  "inbound-triage": inboundTriage,
};

const parsed = new Map<string, Flow>();

/** The flow with this id, or undefined when none is bundled. */
export function getFlow(id: string): Flow | undefined {
  const hit = parsed.get(id);
  if (hit) return hit;
  const raw = RAW[id];
  if (raw === undefined) return undefined;
  const flow = parseFlow(raw);
  parsed.set(id, flow);
  return flow;
}

/** Ids of the bundled flows. */
export function flowIds(): string[] {
  return Object.keys(RAW);
}
