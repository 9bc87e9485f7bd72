/**
 * Telling the local stack's emulators about a simulated call, as the real providers would already know
 * it: the words the STT emulator will "recognise" for each caller turn, and the call Twilio carries (so
 * the app's hang-up and redirects find it). Runs in Node and workerd over any `fetch`.
 */
import type { ScriptedUtterance } from "./script";
import type { FetchLike } from "./twilio-call";

async function postJson(fetchFn: FetchLike, url: string, body: unknown): Promise<Response> {
  const res = await fetchFn(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  return res;
}

/** Register each spoken turn's text with the Deepgram emulator for this call's STT tag. */
export async function registerUtterances(
  deepgramUrl: string,
  callSid: string,
  utterances: ScriptedUtterance[],
  fetchFn: FetchLike = fetch,
): Promise<void> {
  const res = await postJson(fetchFn, new URL("/__emulator/scripts", deepgramUrl).toString(), {
    tag: callSid,
    utterances,
  });
  if (!res.ok) throw new Error(`Deepgram emulator refused the script: ${res.status}`);
}

/**
 * Tell the Twilio emulator about a call it did not place, as Twilio knows every call it carries.
 * A call it already knows (it placed it: campaign dialer) is fine.
 */
export async function registerCall(
  twilioUrl: string,
  call: { sid: string; from: string; to: string },
  fetchFn: FetchLike = fetch,
): Promise<void> {
  const res = await postJson(fetchFn, new URL("/__emulator/calls", twilioUrl).toString(), call);
  if (!res.ok && res.status !== 409) throw new Error(`Twilio emulator refused the call: ${res.status}`);
}

/** Both registrations for one scripted call; each emulator only when its URL is known. */
export async function registerLocalCall(
  emulators: { deepgram?: string | null; twilio?: string | null },
  call: { sid: string; from: string; to: string; utterances: ScriptedUtterance[] },
  fetchFn: FetchLike = fetch,
): Promise<void> {
  if (emulators.deepgram) await registerUtterances(emulators.deepgram, call.sid, call.utterances, fetchFn);
  if (emulators.twilio)
    await registerCall(emulators.twilio, { sid: call.sid, from: call.from, to: call.to }, fetchFn);
}
