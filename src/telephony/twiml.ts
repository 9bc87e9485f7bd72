/** TwiML builders. Every attribute and text value is XML-escaped: nothing from a request goes in raw. */

/** XML 1.0 forbids most C0 control characters even when escaped; they are dropped. */
function isForbiddenControl(code: number): boolean {
  return code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d;
}

/** Escape for XML text and double-quoted attributes. */
export function xmlEscape(value: string): string {
  let clean = "";
  for (const ch of value) if (!isForbiddenControl(ch.charCodeAt(0))) clean += ch;
  return clean
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/**
 * `<Connect><Stream>` with custom parameters (delivered by Twilio in `start.customParameters`).
 * Verbs after `</Connect>` run only if the stream drops without the call ending (a deploy resets the
 * call's Durable Object): `redirectUrl` sends Twilio back to the voice webhook, which opens a new
 * stream that resumes the call from storage.
 */
export function connectStreamTwiml(
  streamUrl: string,
  parameters: Record<string, string>,
  options: { statusCallback?: string; redirectUrl?: string } = {},
): string {
  const { statusCallback, redirectUrl } = options;
  const params = Object.entries(parameters)
    .map(([name, value]) => `<Parameter name="${xmlEscape(name)}" value="${xmlEscape(value)}"/>`)
    .join("");
  const cb = statusCallback
    ? ` statusCallback="${xmlEscape(statusCallback)}" statusCallbackMethod="POST"`
    : "";
  const redirect = redirectUrl ? `<Redirect method="POST">${xmlEscape(redirectUrl)}</Redirect>` : "";
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${xmlEscape(streamUrl)}"${cb}>${params}</Stream></Connect>${redirect}</Response>`;
}

/** Spoken message then hang up: used when the agent cannot take the call (the caller never gets silence). */
export function sayAndHangupTwiml(text: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-GB">${xmlEscape(text)}</Say><Hangup/></Response>`;
}
