/** `{{variable}}` rendering with declared spoken fallbacks; output never contains template braces. */

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const VALID_NAME = /^[a-z][a-z0-9_]*$/;

/** The result of rendering one line. `cacheable` is true only when the template has no variables at all. */
export interface RenderedTemplate {
  text: string;
  cacheable: boolean;
  missing: string[];
}

/** Names of the variables a template uses, in order of first appearance, without duplicates. */
export function templateVariables(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) seen.add((m[1] ?? "").trim());
  return [...seen];
}

/** Remove anything that could read as a template placeholder from a substituted value. */
function sanitizeValue(value: string): string {
  return value.replace(/[{}]/g, "").replace(/\s+/g, " ").trim();
}

/** Tidy the whitespace left where an empty value was substituted ("See you ." -> "See you."). */
function tidy(text: string): string {
  return text
    .replace(/[ \t]{2,}/g, " ")
    .replace(/ +([,.;:!?])/g, "$1")
    .replace(/,\s*([.!?])/g, "$1")
    .trim();
}

/**
 * Render `{{var}}` placeholders from `vars`, else from `fallbacks` (an empty fallback deliberately says nothing).
 * A variable in neither (or a malformed placeholder) is reported in `missing` and rendered as nothing, so the
 * text is always safe to speak.
 */
export function renderTemplate(
  text: string,
  vars: Readonly<Record<string, string>>,
  fallbacks: Readonly<Record<string, string>> = {},
): RenderedTemplate {
  const missing: string[] = [];
  let used = false;
  const replaced = text.replace(PLACEHOLDER, (_m, rawName: string) => {
    used = true;
    const name = rawName.trim();
    const value = VALID_NAME.test(name) ? (vars[name] ?? fallbacks[name]) : undefined;
    const clean = value === undefined ? "" : sanitizeValue(value);
    if (clean === "") {
      const fallback = VALID_NAME.test(name) ? fallbacks[name] : undefined;
      const fb = fallback === undefined ? "" : sanitizeValue(fallback);
      if (fallback === undefined && !missing.includes(name)) missing.push(name);
      return fb;
    }
    return clean;
  });
  let stripped = replaced;
  // Removing one pair can join two single braces ("{}}{"), so strip until nothing is left to strip.
  while (/\{\{|\}\}/.test(stripped)) stripped = stripped.replace(/\{\{|\}\}/g, "");
  if (stripped !== replaced) used = true;
  return { text: tidy(stripped), cacheable: !used, missing };
}
