/**
 * HubSpot CRM v3 client: contact upsert by email (batch/upsert), notes and meetings associated to a
 * contact, and the record URL for alerts. 429s are retried honouring Retry-After.
 */
import { z } from "zod";
import { ProviderError } from "../lib/errors";
import { fetchJson, type HttpDeps, jsonField } from "./http";

/** HUBSPOT_DEFINED association type: note → contact. */
export const NOTE_TO_CONTACT_TYPE_ID = 202;
/** HUBSPOT_DEFINED association type: meeting → contact. */
export const MEETING_TO_CONTACT_TYPE_ID = 200;

/** Connection settings. `baseUrl` defaults to `https://api.hubapi.com`. */
export interface HubspotConfig {
  accessToken: string;
  baseUrl?: string;
  timeoutMs?: number;
}

/** Contact fields we write. Values are strings on the wire; email is the dedupe key. */
export interface ContactInput {
  email: string;
  firstname?: string;
  lastname?: string;
  phone?: string;
  /** Any further HubSpot contact properties (internal names). */
  extra?: Record<string, string>;
}

/** Upsert result: the contact id and whether HubSpot created it. */
export interface UpsertedContact {
  id: string;
  created: boolean;
}

const objectSchema = z.looseObject({ id: z.string() });
const upsertResponse = z.looseObject({
  status: z.string().optional(),
  results: z.array(z.looseObject({ id: z.string(), new: z.boolean().optional() })),
  errors: z.array(z.looseObject({ message: z.string().optional() })).optional(),
});

function describeHubspotError(_status: number, text: string): string {
  const category = jsonField(text, "category");
  const message = jsonField(text, "message") ?? text.slice(0, 200);
  return category ? `${category}: ${message}` : message;
}

function association(contactId: string, typeId: number) {
  return [
    { to: { id: contactId }, types: [{ associationCategory: "HUBSPOT_DEFINED", associationTypeId: typeId }] },
  ];
}

/** HubSpot client. */
export interface HubspotClient {
  /** Create or update the contact keyed by email. Idempotent, so retried on 5xx/timeouts too. */
  upsertContact(input: ContactInput, signal?: AbortSignal): Promise<UpsertedContact>;
  /** A note on the contact's timeline. Retried only on 429 (a repeat would duplicate the note). */
  createNote(
    q: { contactId: string; body: string; timestampMs: number },
    signal?: AbortSignal,
  ): Promise<string>;
  /** A meeting engagement on the contact. Retried only on 429. */
  createMeeting(
    q: {
      contactId: string;
      title: string;
      startIso: string;
      endIso: string;
      body?: string;
      /** Outcome property value, e.g. `SCHEDULED`. */
      outcome?: string;
    },
    signal?: AbortSignal,
  ): Promise<string>;
}

/** Link to a contact record in the HubSpot app. */
export function contactUrl(
  portalId: string,
  contactId: string,
  appBaseUrl = "https://app.hubspot.com",
): string {
  return `${appBaseUrl.replace(/\/+$/, "")}/contacts/${encodeURIComponent(portalId)}/record/0-1/${encodeURIComponent(contactId)}`;
}

/** Create a client; build it per request or per Durable Object. */
export function createHubspotClient(config: HubspotConfig, deps: HttpDeps = {}): HubspotClient {
  const base = (config.baseUrl ?? "https://api.hubapi.com").replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${config.accessToken}` };
  const timeoutMs = config.timeoutMs ?? 5_000;
  const common = {
    provider: "hubspot",
    method: "POST" as const,
    headers,
    timeoutMs,
    describeError: describeHubspotError,
  };

  return {
    async upsertContact(input, signal) {
      const properties: Record<string, string> = { ...input.extra, email: input.email };
      if (input.firstname !== undefined) properties.firstname = input.firstname;
      if (input.lastname !== undefined) properties.lastname = input.lastname;
      if (input.phone !== undefined) properties.phone = input.phone;
      const res = await fetchJson(
        {
          ...common,
          url: `${base}/crm/v3/objects/contacts/batch/upsert`,
          json: { inputs: [{ idProperty: "email", id: input.email, properties }] },
          signal,
          retry: "idempotent",
          schema: upsertResponse,
        },
        deps,
      );
      const first = res.results[0];
      if (!first) {
        const reason = res.errors?.[0]?.message ?? "no result";
        throw new ProviderError("hubspot", `contact upsert failed: ${reason}`, 207, { retryable: false });
      }
      return { id: first.id, created: first.new ?? false };
    },

    async createNote(q, signal) {
      const res = await fetchJson(
        {
          ...common,
          url: `${base}/crm/v3/objects/notes`,
          json: {
            properties: { hs_timestamp: new Date(q.timestampMs).toISOString(), hs_note_body: q.body },
            associations: association(q.contactId, NOTE_TO_CONTACT_TYPE_ID),
          },
          signal,
          retry: "rate-limit-only",
          schema: objectSchema,
        },
        deps,
      );
      return res.id;
    },

    async createMeeting(q, signal) {
      const properties: Record<string, string> = {
        hs_timestamp: q.startIso,
        hs_meeting_title: q.title,
        hs_meeting_start_time: q.startIso,
        hs_meeting_end_time: q.endIso,
      };
      if (q.body !== undefined) properties.hs_meeting_body = q.body;
      if (q.outcome !== undefined) properties.hs_meeting_outcome = q.outcome;
      const res = await fetchJson(
        {
          ...common,
          url: `${base}/crm/v3/objects/meetings`,
          json: { properties, associations: association(q.contactId, MEETING_TO_CONTACT_TYPE_ID) },
          signal,
          retry: "rate-limit-only",
          schema: objectSchema,
        },
        deps,
      );
      return res.id;
    },
  };
}
