import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { campaignCallParams } from "../../src/campaign/dial";
import { CampaignInputSchema, type CampaignSettings } from "../../src/campaign/schema";
import { callStub } from "../support/audit";
import { newCallSid, signedPost, TwilioMediaClient } from "../support/twilio-media-client";

describe("no personal data on Twilio URLs (security)", () => {
  it("places a campaign call with only the lead id on the answer URL and loads the lead server-side", async () => {
    const id = `cmp_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
    const settings: CampaignSettings = {
      ...CampaignInputSchema.parse({ flow: "outbound-booking", callerId: "+442071234567" }),
      id,
      publicBaseUrl: "https://agent.example",
      createdAtMs: Date.now(),
    };
    const phone = "+447700900456";
    const email = `priya-${id.slice(4, 12)}@example.co.uk`;
    const dialer = env.CAMPAIGN_DIALER.get(env.CAMPAIGN_DIALER.idFromName(id));
    await dialer.create(settings);
    await dialer.addLeads([{ phone, first_name: "Priya", email, consent: { given: true, text: "ok" } }]);
    const lead = await runInDurableObject(
      dialer,
      (_instance, state) => state.storage.sql.exec<{ id: string }>("SELECT id FROM leads").toArray()[0],
    );
    if (!lead) throw new Error("lead not stored");

    // What the dialer hands Twilio: the answer URL names the lead, never who it is.
    const params = campaignCallParams(settings, {
      id: lead.id,
      phone,
      firstName: "Priya",
      email,
      timeZone: "Europe/London",
      consentGiven: true,
      consentText: "ok",
      status: "pending",
      attempts: 0,
    });
    const url = params.url ?? "";
    const answerUrl = new URL(url);
    expect(url).not.toContain("Priya");
    expect(url).not.toContain(encodeURIComponent(email));
    expect(url).not.toContain(phone.slice(1));
    expect(answerUrl.searchParams.get("var_lead_id")).toBe(lead.id);

    // The TwiML Twilio receives (and logs) carries no name or email either.
    const callSid = newCallSid();
    const query = `${answerUrl.search}`;
    const twiml = await (
      await signedPost(`/twilio/voice${query}`, { CallSid: callSid, From: "+442071234567", To: phone })
    ).text();
    expect(twiml).not.toContain("Priya");
    expect(twiml).not.toContain(email);

    // The call greets the lead by name: its Durable Object loaded the lead from the campaign.
    const call = await TwilioMediaClient.call({ callSid: newCallSid(), to: phone, query });
    await call.waitIdle();
    const { record } = await callStub(call.callSid).inspect();
    expect(record?.snapshot.vars).toMatchObject({ first_name: "Priya", email, lead_id: lead.id });
    call.close();
  });
});
