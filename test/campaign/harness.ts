/** A campaign over real SQLite (node:sqlite) with an injected clock and fake Twilio/do-not-call ports. */
import { type DialerPorts, runDialerTick } from "../../src/campaign/dialer";
import type { CampaignInput, CampaignSettings, LeadInput } from "../../src/campaign/schema";
import { CampaignInputSchema } from "../../src/campaign/schema";
import { CampaignStore } from "../../src/campaign/store";
import type { CreateCallParams } from "../../src/integrations/twilio-rest";
import { createLogger } from "../../src/lib/log";
import { NodeSqlStorage } from "../../src/store/node-sql-storage";
import { Outbox } from "../../src/store/outbox";

/** One placed call as the fake Twilio saw it. */
export interface PlacedCall {
  sid: string;
  atMs: number;
  params: CreateCallParams;
}

/** Test double of the dialer's world. Mutate `suppressed` and `nowMs` between ticks. */
export class CampaignHarness {
  readonly sql = new NodeSqlStorage();
  readonly outbox = new Outbox(this.sql, { log: createLogger({}, "error") });
  readonly store = new CampaignStore(this.sql, (fn) => this.sql.transactionSync(fn), this.outbox);
  readonly calls: PlacedCall[] = [];
  readonly suppressed = new Set<string>();
  nowMs: number;
  /** Throw from the do-not-call check (the check could not be made). */
  checkFails = false;
  /** Optional hook run inside the suppression check (e.g. an opt-out landing mid-check). */
  duringCheck: ((phone: string) => void) | undefined;
  private seq = 0;

  constructor(startMs: number, input: Partial<CampaignInput> = {}) {
    this.nowMs = startMs;
    const parsed = CampaignInputSchema.parse({
      flow: "outbound-booking",
      callerId: "+442071234567",
      ...input,
    });
    const settings: CampaignSettings = {
      ...parsed,
      id: "cmp_00000000000000000001",
      publicBaseUrl: "https://agent.example",
      createdAtMs: startMs,
    };
    this.store.create(settings);
  }

  ports(): DialerPorts {
    return {
      isSuppressed: async (phone) => {
        if (this.checkFails) throw new Error("edge state unavailable");
        this.duringCheck?.(phone);
        return this.suppressed.has(phone);
      },
      createCall: async (params) => {
        const sid = `CA${(this.seq++).toString(16).padStart(32, "0")}`;
        this.calls.push({ sid, atMs: this.nowMs, params });
        return { sid };
      },
      nowMs: () => this.nowMs,
      log: createLogger({}, "error"),
    };
  }

  tick() {
    return runDialerTick(this.store, this.ports(), { staleAfterMs: 15 * 60_000 });
  }

  addLeads(leads: LeadInput[]) {
    return this.store.addLeads(leads, this.nowMs);
  }

  /** Deliver a terminal status for a placed call, as the status route does. */
  end(sid: string, status: "completed" | "busy" | "no-answer" | "failed") {
    const attempt = this.store.attemptFor(sid);
    if (attempt?.open) this.store.closeAttempt(attempt.id, status, this.nowMs);
  }
}

/** A lead with consent. */
export function lead(phone: string, extra: Partial<LeadInput> = {}): LeadInput {
  return {
    phone,
    first_name: "Jo",
    email: `${phone.slice(1)}@example.com`,
    consent: { given: true, text: "Call me about my quote" },
    ...extra,
  };
}
