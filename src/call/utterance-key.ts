/** Content key of a pre-rendered line: what was said, by which voice and model, in which format. */

export const UTTERANCE_FORMAT = "ulaw_8000";

/** `utterances/<sha256 of voice|model|format|text>.ulaw`: the same line renders to the same key anywhere. */
export async function utteranceKey(line: {
  voiceId: string;
  modelId: string;
  text: string;
}): Promise<string> {
  const material = `${line.voiceId}\u0000${line.modelId}\u0000${UTTERANCE_FORMAT}\u0000${line.text}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(material)));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return `utterances/${hex}.ulaw`;
}
