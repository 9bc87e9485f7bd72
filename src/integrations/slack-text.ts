/**
 * Slack mrkdwn escaping for text that came from outside (form fields, caller words). Slack reads
 * `<…>` as links and mentions (`<!channel>`, `<@U123>`, `<https://x|click>`), so `&`, `<` and `>`
 * are replaced by their entities as Slack's formatting guide asks; nothing else is touched.
 */

/** Escape untrusted text for a Slack message `text` or mrkdwn block. `&` first, so entities are not doubled. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
