/**
 * The headers every dashboard response carries. The pages run no script at all and style themselves
 * with one `<style>` element whose text is a constant, so the Content-Security-Policy allows that
 * stylesheet by its SHA-256 hash instead of `'unsafe-inline'`; media (the recording and its captions)
 * is same-origin. WebCrypto only.
 */

/** `'sha256-…'` source expression for an inline element whose text is exactly `text`. */
export async function cspHashSource(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  let s = "";
  for (const b of digest) s += String.fromCharCode(b);
  return `'sha256-${btoa(s)}'`;
}

/** The policy: nothing but same-origin loads, the hashed stylesheet, no scripts, no framing, no plugins. */
export function dashboardCsp(styleSource: string): string {
  return [
    "default-src 'self'",
    "script-src 'none'",
    `style-src ${styleSource}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every header the dashboard sets on its responses, given the stylesheet's hash source. */
export function dashboardSecurityHeaders(styleSource: string): Record<string, string> {
  return {
    "content-security-policy": dashboardCsp(styleSource),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
  };
}
