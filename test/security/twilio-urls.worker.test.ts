import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { campaignCallParams } from "../../src/campaign/dial";
import { CampaignInputSchema, type CampaignSettings } from "../../src/campaign/schema";
import {
  ACME_CONSENT,
  callApp,
  IN_HOURS_MS,
  requestsMentioning,
  SITE_ORIGIN,
  TURNSTILE_DUMMY_TOKEN,
  testBindings,
  unique,
} from "../routes/business-support";
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

  it("places a speed-to-lead call with only the lead id on the answer URL and greets the lead by name", async () => {
    const tag = `stl${unique()}`;
    const phone = `+447400${String(Math.floor(Math.random() * 900_000) + 100_000)}`;
    const email = `${tag}@example.com`;
    const res = await callApp(
      "/api/ingest/lead",
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: SITE_ORIGIN,
          "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}`,
        },
        body: JSON.stringify({
          name: `Marisol ${tag}`,
          email,
          phone,
          intent: "windows quote",
          source: "contact-form",
          site_id: "acme",
          consent: { given: true, text: ACME_CONSENT.text, version: ACME_CONSENT.version },
          timezone: "Europe/London",
          turnstile_token: TURNSTILE_DUMMY_TOKEN,
        }),
      },
      testBindings({
        ALLOW_CLOCK_OVERRIDE: "true",
        CLOCK_OVERRIDE_MS: String(IN_HOURS_MS),
        LEAD_RATE_LIMIT_IP_PER_MINUTE: "1000",
      }),
    );
    expect(res.status).toBe(202);
    const { lead_id: leadId } = (await res.json()) as { lead_id: string };

    // What the Twilio emulator was asked to call: the answer URL names the lead, never who it is.
    const calls = (await requestsMentioning("twilio", phone)).filter((r) => r.path.endsWith("/Calls.json"));
    expect(calls).toHaveLength(1);
    const url = new URLSearchParams(calls[0]?.body ?? "").get("Url") ?? "";
    const answerUrl = new URL(url);
    for (const personal of ["Marisol", tag, email, encodeURIComponent(email), phone, phone.slice(1)]) {
      expect(url).not.toContain(personal);
    }
    expect(answerUrl.searchParams.get("var_lead_id")).toBe(leadId);

    // The TwiML Twilio receives (and logs) carries none of it either.
    const query = answerUrl.search;
    const twiml = await (
      await signedPost(`/twilio/voice${query}`, { CallSid: newCallSid(), From: "+442071234567", To: phone })
    ).text();
    expect(twiml).not.toContain("Marisol");
    expect(twiml).not.toContain(email);

    // The call still greets the lead by first name: its Durable Object loaded the lead's variables.
    const call = await TwilioMediaClient.call({ callSid: newCallSid(), to: phone, query });
    await call.waitIdle();
    const { record } = await callStub(call.callSid).inspect();
    expect(record?.snapshot.vars).toMatchObject({ first_name: "Marisol", email, lead_id: leadId });
    call.close();
  });
});
