import { DurableObject } from "cloudflare:workers";
export class CallSession extends DurableObject {}
