// Template rendering: variables, declared fallbacks, the cacheable flag, and never leaking braces.
import { describe, expect, it } from "vitest";
import { renderTemplate, templateVariables } from "../../src/flow/template";

describe("templateVariables", () => {
  it("lists each variable once, in order", () => {
    expect(templateVariables("{{a}} and {{ b }} and {{a}}")).toEqual(["a", "b"]);
    expect(templateVariables("no variables")).toEqual([]);
  });
});

describe("renderTemplate", () => {
  it("substitutes values and marks variable lines as not cacheable", () => {
    expect(renderTemplate("Is this {{first_name}}?", { first_name: "Alex" })).toEqual({
      text: "Is this Alex?",
      cacheable: false,
      missing: [],
    });
  });

  it("marks lines without variables as cacheable", () => {
    expect(renderTemplate("Thanks, goodbye.", {})).toEqual({
      text: "Thanks, goodbye.",
      cacheable: true,
      missing: [],
    });
  });

  it("uses the declared fallback when a value is missing or blank", () => {
    const fb = { email: "the email address we have for you" };
    expect(renderTemplate("Invite at {{email}}.", {}, fb).text).toBe(
      "Invite at the email address we have for you.",
    );
    expect(renderTemplate("Invite at {{email}}.", { email: "  " }, fb).text).toBe(
      "Invite at the email address we have for you.",
    );
  });

  it("an empty fallback says nothing and tidies the punctuation", () => {
    expect(renderTemplate("Thanks, {{name}}. Bye.", {}, { name: "" })).toEqual({
      text: "Thanks. Bye.",
      cacheable: false,
      missing: [],
    });
  });

  it("reports variables with neither value nor fallback and renders them as nothing", () => {
    expect(renderTemplate("See you {{slot}} then.", {})).toEqual({
      text: "See you then.",
      cacheable: false,
      missing: ["slot"],
    });
  });

  it("never lets braces through, from malformed placeholders or from values", () => {
    const r = renderTemplate("A {{Bad Name}} {{x}} }}{{ z", { x: "{{evil}}" });
    expect(r.text).not.toMatch(/\{\{|\}\}/);
    expect(r.missing).toContain("Bad Name");
    expect(renderTemplate("{}}{ {{x}}", { x: "y" }).text).not.toMatch(/\{\{|\}\}/);
  });
});
