import { afterEach, describe, expect, it } from "vitest";
import { contactUrl, createHubspotClient } from "../../src/integrations/hubspot";
import { createSlackClient } from "../../src/integrations/slack";
import { ProviderError } from "../../src/lib/errors";
import { startHubspotEmulator } from "../../src/tooling/emulators/hubspot";
import { startSlackEmulator } from "../../src/tooling/emulators/slack";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function hubspot(opts: Parameters<typeof startHubspotEmulator>[0] = {}) {
  const emu = await startHubspotEmulator(opts);
  cleanups.push(() => emu.close());
  return {
    emu,
    client: createHubspotClient({ accessToken: "hs_test_token", baseUrl: emu.url, timeoutMs: 1_000 }),
  };
}

async function slack(opts: Parameters<typeof startSlackEmulator>[0] = {}) {
  const emu = await startSlackEmulator(opts);
  cleanups.push(() => emu.close());
  return {
    emu,
    client: createSlackClient({
      webhookUrl: emu.webhookUrl,
      botToken: "xoxb-test",
      apiBaseUrl: emu.apiBaseUrl,
      timeoutMs: 300,
    }),
  };
}

describe("HubSpot client against the emulator", () => {
  it("upserts one contact per email whatever its case", async () => {
    const { emu, client } = await hubspot();
    const a = await client.upsertContact({
      email: "jo@example.co.uk",
      firstname: "Jo",
      phone: "+447700900123",
    });
    const b = await client.upsertContact({ email: "Jo@Example.co.uk", lastname: "Bloggs" });
    expect(a.created).toBe(true);
    expect(b).toEqual({ id: a.id, created: false });
    expect(emu.contacts()).toHaveLength(1);
    expect(emu.contacts()[0]?.properties).toMatchObject({ firstname: "Jo", lastname: "Bloggs" });
  });

  it("creates a note (type 202) and a meeting (type 200) on the contact", async () => {
    const { emu, client } = await hubspot();
    const { id } = await client.upsertContact({ email: "jo@example.co.uk" });
    await client.createNote({
      contactId: id,
      body: "Lead from web form",
      timestampMs: Date.parse("2026-03-02T09:00:00Z"),
    });
    await client.createMeeting({
      contactId: id,
      title: "Voice booking",
      startIso: "2026-03-03T10:00:00.000Z",
      endIso: "2026-03-03T10:30:00.000Z",
    });
    expect(emu.notes()[0]?.associations).toEqual([{ toId: id, typeId: 202 }]);
    expect(emu.notes()[0]?.properties.hs_timestamp).toBe("2026-03-02T09:00:00.000Z");
    expect(emu.meetings()[0]?.associations).toEqual([{ toId: id, typeId: 200 }]);
    expect(emu.meetings()[0]?.properties).toMatchObject({
      hs_timestamp: "2026-03-03T10:00:00.000Z",
      hs_meeting_start_time: "2026-03-03T10:00:00.000Z",
      hs_meeting_end_time: "2026-03-03T10:30:00.000Z",
    });
  });

  it("waits out a 429 burst limit using Retry-After and then succeeds", async () => {
    const { emu, client } = await hubspot({ burstLimit: { max: 2, intervalMs: 400, retryAfterSeconds: 1 } });
    await client.upsertContact({ email: "a@example.com" });
    await client.upsertContact({ email: "b@example.com" });
    const { id } = await client.upsertContact({ email: "c@example.com" });
    expect(id).toBeTruthy();
    expect(emu.requests()).toHaveLength(4);
  });

  it("retries the idempotent upsert on 5xx but never a note", async () => {
    const { emu, client } = await hubspot();
    emu.injectFault({ pathPrefix: "/crm/v3/objects/contacts", status: 500 });
    const { id } = await client.upsertContact({ email: "jo@example.co.uk" });
    expect(emu.requests()).toHaveLength(2);
    emu.injectFault({ pathPrefix: "/crm/v3/objects/notes", status: 500 });
    await expect(client.createNote({ contactId: id, body: "x", timestampMs: 0 })).rejects.toMatchObject({
      status: 500,
    });
    expect(emu.requests()).toHaveLength(3);
    expect(emu.notes()).toHaveLength(0);
  });

  it("reports a bad token as a non-retryable 401 with HubSpot's category", async () => {
    const emu = await startHubspotEmulator();
    cleanups.push(() => emu.close());
    const bad = createHubspotClient({ accessToken: "wrong", baseUrl: emu.url });
    const err = await bad.upsertContact({ email: "jo@example.co.uk" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ status: 401, retryable: false });
    expect((err as Error).message).toContain("INVALID_AUTHENTICATION");
  });

  it("builds the contact record URL", () => {
    expect(contactUrl("123", "456")).toBe("https://app.hubspot.com/contacts/123/record/0-1/456");
  });
});

describe("Slack client against the emulator", () => {
  it("posts through the incoming webhook", async () => {
    const { emu, client } = await slack();
    await client.postWebhook({ text: "New lead", blocks: [{ type: "section" }] });
    expect(emu.messages()).toMatchObject([{ via: "webhook", text: "New lead" }]);
  });

  it("surfaces the plain-text error code of a revoked webhook", async () => {
    const { emu } = await slack();
    const c = createSlackClient({ webhookUrl: `${emu.url}/services/T1/B1/revoked` });
    const err = await c.postWebhook({ text: "x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, retryable: false });
    expect((err as Error).message).toContain("no_service");
  });

  it("retries a webhook post on 429 only, never on 5xx", async () => {
    const { emu, client } = await slack();
    emu.injectFault({ status: 429, body: "rate_limited", retryAfterSeconds: 1 });
    await client.postWebhook({ text: "after rate limit" });
    expect(emu.requests()).toHaveLength(2);
    expect(emu.messages()).toHaveLength(1);
    emu.injectFault({ status: 500, body: "internal" });
    await expect(client.postWebhook({ text: "x" })).rejects.toMatchObject({ status: 500 });
    expect(emu.requests()).toHaveLength(3);
  });

  it("posts with chat.postMessage and maps {ok:false} errors", async () => {
    const { emu, client } = await slack({ channels: ["C123"] });
    const ts = await client.postMessage("C123", { text: "hello" });
    expect(ts).toMatch(/^\d+\.\d{6}$/);
    expect(emu.messages()).toMatchObject([{ via: "api", channel: "C123", text: "hello" }]);
    await expect(client.postMessage("C999", { text: "x" })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining("channel_not_found"),
    });
    const bad = createSlackClient({ botToken: "xoxb-wrong", apiBaseUrl: emu.apiBaseUrl });
    await expect(bad.postMessage("C123", { text: "x" })).rejects.toThrow(/invalid_auth/);
  });

  it("does not resend a chat post that timed out (it may have been delivered)", async () => {
    const { emu, client } = await slack();
    emu.injectFault({ stall: true });
    const t0 = Date.now();
    await expect(client.postWebhook({ text: "x" })).rejects.toMatchObject({ retryable: true });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(emu.requests()).toHaveLength(1);
  });
});
