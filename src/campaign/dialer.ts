/**
 * One dialer tick over injected ports: close attempts that never reported back, plan with `nextDials`,
 * check consent, the do-not-call set and the lead's window immediately before each dial (a check that
 * fails means no dial), reserve the attempt, then create the call. Returns when to wake next.
 */
import { callingWindowStatus } from "../flow/time";
import type { CreateCallParams } from "../integrations/twilio-rest";
import { ProviderError } from "../lib/errors";
import type { Logger } from "../lib/log";
import { campaignCallParams } from "./dial";
import { nextDials } from "./scheduler";
import type { CampaignStore } from "./store";

/** What a tick touches outside the store. */
export interface DialerPorts {
  /** True when the number must not be called; throws when the check could not be made. */
  isSuppressed(phone: string): Promise<boolean>;
  createCall(params: CreateCallParams): Promise<{ sid: string }>;
  nowMs(): number;
  log: Logger;
}

/** Tick options. */
export interface TickOptions {
  /** An attempt with no terminal status after this long is closed as `stale` (never retried). */
  staleAfterMs: number;
  /** A lead whose do-not-call check failed is looked at again after this long. */
  checkRetryMs?: number;
}

/** What one tick did. */
export interface TickResult {
  dialled: string[];
  skipped: string[];
  wakeAtMs: number | null;
}

/** Run one tick. Safe to call at any time; only one tick may run at once (the caller serialises). */
export async function runDialerTick(
  store: CampaignStore,
  ports: DialerPorts,
  opts: TickOptions,
): Promise<TickResult> {
  const settings = store.settings();
  if (!settings) return { dialled: [], skipped: [], wakeAtMs: null };
  const started = ports.nowMs();
  for (const id of store.staleAttempts(started - opts.staleAfterMs)) store.closeAttempt(id, "stale", started);

  const plan = nextDials(store.schedulerState(started), started);
  const dialled: string[] = [];
  const skipped: string[] = [];
  for (const leadId of plan.candidates) {
    if (dialled.length >= plan.budget) break;
    const lead = store.lead(leadId);
    if (lead?.status !== "pending") continue;
    if (!lead.consentGiven) {
      store.skipLead(leadId, "no_consent", ports.nowMs());
      skipped.push(leadId);
      continue;
    }
    let suppressed: boolean;
    try {
      suppressed = await ports.isSuppressed(lead.phone);
    } catch (err) {
      const now = ports.nowMs();
      store.deferLead(leadId, now + (opts.checkRetryMs ?? 60_000), "suppression_check_failed", now);
      ports.log.warn("do-not-call check failed; not dialling", {
        campaignId: settings.id,
        leadId,
        error: err instanceof Error ? err.message : String(err),
      });
      break;
    }
    if (suppressed) {
      store.skipLead(leadId, "suppressed", ports.nowMs());
      skipped.push(leadId);
      continue;
    }
    // The check took time: the campaign may have been paused and the window may have closed meanwhile.
    const now = ports.nowMs();
    if (store.status() !== "running" || store.lead(leadId)?.status !== "pending") break;
    if (!callingWindowStatus(now, lead.timeZone, settings.callingWindow).open) continue;
    const attemptId = store.reserveAttempt(leadId, settings.callerId, now);
    try {
      const call = await ports.createCall(campaignCallParams(settings, lead));
      store.attemptDialled(attemptId, call.sid, ports.nowMs());
      ports.log.info("campaign call placed", { campaignId: settings.id, leadId, callSid: call.sid });
    } catch (err) {
      // A 5xx means Twilio placed nothing; a timeout may have dialled, so it is never retried.
      const retryable = err instanceof ProviderError && err.status !== undefined && err.status >= 500;
      const message = err instanceof Error ? err.message : String(err);
      store.closeAttempt(attemptId, retryable ? "dial_error_retryable" : "dial_error", ports.nowMs(), {
        error: message,
      });
      ports.log.warn("campaign call not placed", { campaignId: settings.id, leadId, error: message });
    }
    dialled.push(leadId);
  }

  const after = ports.nowMs();
  const next = nextDials(store.schedulerState(after), after);
  let wakeAtMs = next.budget > 0 ? after : next.wakeAtMs;
  const oldest = store.oldestOpenAttemptMs();
  if (oldest !== null) {
    const staleAt = oldest + opts.staleAfterMs;
    wakeAtMs = wakeAtMs === null ? staleAt : Math.min(wakeAtMs, staleAt);
  }
  return { dialled, skipped, wakeAtMs };
}
