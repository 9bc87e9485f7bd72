/**
 * HubSpot CRM v3 emulator (Node): contacts (create with 409 on duplicate email, batch upsert deduped
 * by email), notes and meetings with contact associations, Bearer auth, the
 * `{status,message,correlationId,category}` error shape and an optional ten-secondly burst limit.
 */
import { randomUUID } from "node:crypto";
import {
  asRecord,
  bearerToken,
  type EmulatorBaseOptions,
  type EmulatorControls,
  type EmulatorResponse,
  type RecordedRequest,
  startHttpEmulator,
  tryJson,
} from "./http-shared";

/** A stored CRM object. */
export interface HubspotObject {
  id: string;
  properties: Record<string, string>;
  associations: { toId: string; typeId: number }[];
  createdAt: string;
  updatedAt: string;
  archived: false;
}

/** Options: token, burst limit (requests per interval), Retry-After on 429. */
export interface HubspotEmulatorOptions extends EmulatorBaseOptions {
  accessToken?: string;
  burstLimit?: { max: number; intervalMs: number; retryAfterSeconds?: number };
}

/** Emulator handle with the stored objects. */
export interface HubspotEmulator extends EmulatorControls {
  contacts(): HubspotObject[];
  notes(): HubspotObject[];
  meetings(): HubspotObject[];
}

const NOTE_TO_CONTACT = 202;
const MEETING_TO_CONTACT = 200;

function hsError(status: number, category: string, message: string, extra: Record<string, unknown> = {}) {
  return { status, body: { status: "error", message, correlationId: randomUUID(), category, ...extra } };
}

function stringProps(v: unknown): Record<string, string> | undefined {
  const rec = asRecord(v);
  if (!rec) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec)) {
    if (typeof val === "string") out[k] = val;
    else if (typeof val === "number" || typeof val === "boolean") out[k] = String(val);
  }
  return out;
}

/** Start the HubSpot emulator. Default token `hs_test_token`, no burst limit. */
export async function startHubspotEmulator(options: HubspotEmulatorOptions = {}): Promise<HubspotEmulator> {
  const token = options.accessToken ?? "hs_test_token";
  let contacts: HubspotObject[] = [];
  let notes: HubspotObject[] = [];
  let meetings: HubspotObject[] = [];
  let hits: number[] = [];
  let nextId = 101;

  const now = () => new Date().toISOString();
  const byEmail = (email: string) =>
    contacts.find((c) => c.properties.email?.toLowerCase() === email.toLowerCase());

  const parseAssociations = (
    v: unknown,
    expectedTypeId: number,
  ): { ok: true; list: HubspotObject["associations"] } | { ok: false; res: EmulatorResponse } => {
    const list: HubspotObject["associations"] = [];
    for (const a of Array.isArray(v) ? v : []) {
      const toId = asRecord(asRecord(a)?.to)?.id;
      const types = asRecord(a)?.types;
      const type = Array.isArray(types) ? asRecord(types[0]) : undefined;
      const typeId = type?.associationTypeId;
      if ((typeof toId !== "string" && typeof toId !== "number") || typeof typeId !== "number") {
        return { ok: false, res: hsError(400, "VALIDATION_ERROR", "Invalid association input") };
      }
      if (!contacts.some((c) => c.id === String(toId))) {
        return { ok: false, res: hsError(404, "OBJECT_NOT_FOUND", `No contact with ID ${toId}`) };
      }
      if (type?.associationCategory !== "HUBSPOT_DEFINED" || typeId !== expectedTypeId) {
        return {
          ok: false,
          res: hsError(400, "VALIDATION_ERROR", `associationTypeId ${typeId} is not valid here`),
        };
      }
      list.push({ toId: String(toId), typeId });
    }
    return { ok: true, list };
  };

  const makeObject = (properties: Record<string, string>, associations: HubspotObject["associations"]) => {
    const t = now();
    const obj: HubspotObject = {
      id: String(nextId++),
      properties,
      associations,
      createdAt: t,
      updatedAt: t,
      archived: false,
    };
    return obj;
  };
  const view = (o: HubspotObject) => ({
    id: o.id,
    properties: { ...o.properties, hs_object_id: o.id },
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: o.archived,
  });

  const upsert = (req: RecordedRequest): EmulatorResponse => {
    const inputs = asRecord(tryJson(req.body))?.inputs;
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > 100) {
      return hsError(400, "VALIDATION_ERROR", "inputs must be an array of 1-100 items");
    }
    const startedAt = now();
    const results: unknown[] = [];
    for (const raw of inputs) {
      const input = asRecord(raw);
      const props = stringProps(input?.properties) ?? {};
      if (input?.idProperty !== "email" || typeof input.id !== "string" || input.id === "") {
        return hsError(400, "VALIDATION_ERROR", "idProperty must be email and id a non-empty string");
      }
      const existing = byEmail(input.id);
      if (existing) {
        existing.properties = {
          ...existing.properties,
          ...props,
          email: existing.properties.email ?? input.id,
        };
        existing.updatedAt = now();
        results.push({ ...view(existing), new: false });
      } else {
        const created = makeObject({ ...props, email: input.id.toLowerCase() }, []);
        contacts.push(created);
        results.push({ ...view(created), new: true });
      }
    }
    return { status: 200, body: { status: "COMPLETE", results, startedAt, completedAt: now() } };
  };

  const createContact = (req: RecordedRequest): EmulatorResponse => {
    const props = stringProps(asRecord(tryJson(req.body))?.properties);
    if (!props) return hsError(400, "VALIDATION_ERROR", "properties is required");
    const existing = props.email ? byEmail(props.email) : undefined;
    if (existing) return hsError(409, "CONFLICT", `Contact already exists. Existing ID: ${existing.id}`);
    const created = makeObject(props, []);
    contacts.push(created);
    return { status: 201, body: view(created) };
  };

  const createEngagement = (req: RecordedRequest, kind: "notes" | "meetings"): EmulatorResponse => {
    const body = asRecord(tryJson(req.body));
    const props = stringProps(body?.properties);
    if (!props) return hsError(400, "VALIDATION_ERROR", "properties is required");
    if (
      kind === "meetings" &&
      props.hs_timestamp === undefined &&
      props.hs_meeting_start_time !== undefined
    ) {
      props.hs_timestamp = props.hs_meeting_start_time;
    }
    if (props.hs_timestamp === undefined) {
      return hsError(400, "VALIDATION_ERROR", "Property values were not valid: hs_timestamp is required");
    }
    const assoc = parseAssociations(
      body?.associations,
      kind === "notes" ? NOTE_TO_CONTACT : MEETING_TO_CONTACT,
    );
    if (!assoc.ok) return assoc.res;
    const obj = makeObject(props, assoc.list);
    (kind === "notes" ? notes : meetings).push(obj);
    return { status: 201, body: view(obj) };
  };

  const rateHeaders = (remaining: number): Record<string, string> =>
    options.burstLimit
      ? {
          "x-hubspot-ratelimit-max": String(options.burstLimit.max),
          "x-hubspot-ratelimit-remaining": String(Math.max(0, remaining)),
          "x-hubspot-ratelimit-interval-milliseconds": String(options.burstLimit.intervalMs),
        }
      : {};

  const route = (req: RecordedRequest): EmulatorResponse => {
    const p = req.path;
    if (p === "/crm/v3/objects/contacts/batch/upsert" && req.method === "POST") return upsert(req);
    if (p === "/crm/v3/objects/contacts" && req.method === "POST") return createContact(req);
    if (p === "/crm/v3/objects/notes" && req.method === "POST") return createEngagement(req, "notes");
    if (p === "/crm/v3/objects/meetings" && req.method === "POST") return createEngagement(req, "meetings");
    const m = /^\/crm\/v3\/objects\/(contacts|notes|meetings)\/([^/]+)$/.exec(p);
    if (m && req.method === "GET") {
      const store = m[1] === "contacts" ? contacts : m[1] === "notes" ? notes : meetings;
      const found = store.find((o) => o.id === m[2]);
      return found
        ? { status: 200, body: view(found) }
        : hsError(404, "OBJECT_NOT_FOUND", "Object not found");
    }
    return hsError(404, "OBJECT_NOT_FOUND", `No route for ${req.method} ${p}`);
  };

  const impl = {
    name: "hubspot",
    state: () => ({ contacts, notes, meetings }),
    reset: () => {
      contacts = [];
      notes = [];
      meetings = [];
      hits = [];
    },
    handle(req: RecordedRequest): EmulatorResponse {
      if (bearerToken(req) !== token) {
        return hsError(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.");
      }
      let remaining = Number.POSITIVE_INFINITY;
      const limit = options.burstLimit;
      if (limit) {
        const t = Date.now();
        hits = hits.filter((h) => t - h < limit.intervalMs);
        if (hits.length >= limit.max) {
          const res = hsError(429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.", {
            errorType: "RATE_LIMIT",
            policyName: "TEN_SECONDLY_ROLLING",
          });
          const headers = rateHeaders(0);
          if (limit.retryAfterSeconds !== undefined) headers["retry-after"] = String(limit.retryAfterSeconds);
          return { ...res, headers };
        }
        hits.push(t);
        remaining = limit.max - hits.length;
      }
      const res = route(req);
      return { ...res, headers: { ...res.headers, ...rateHeaders(remaining) } };
    },
  };
  const controls = await startHttpEmulator(impl, options);
  return {
    ...controls,
    contacts: () => [...contacts],
    notes: () => [...notes],
    meetings: () => [...meetings],
  };
}
