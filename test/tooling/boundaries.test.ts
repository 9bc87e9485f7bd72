import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findBoundaryViolations, isProductFile, packageName } from "../../src/tooling/boundaries.ts";

const DEPS = new Set(["hono", "zod", "@neondatabase/serverless"]);

describe("Worker/tooling import boundary", () => {
  it("knows which files ship in the Worker", () => {
    expect(isProductFile("src/call/engine.ts")).toBe(true);
    expect(isProductFile("durable-objects/call-session.ts")).toBe(true);
    expect(isProductFile("src/tooling/emulators/twilio.ts")).toBe(false);
    expect(isProductFile("test/call/engine.test.ts")).toBe(false);
  });

  it("reads package names from bare specifiers", () => {
    expect(packageName("@neondatabase/serverless/sub")).toBe("@neondatabase/serverless");
    expect(packageName("hono/cors")).toBe("hono");
  });

  it("flags every way product code can reach tooling, tests or a devDependency", () => {
    const text = [
      'import { x } from "../tooling/emulators/twilio.ts";',
      'import type { Y } from "../tooling/simulator/virtual/world.ts";',
      "import {",
      "  a,",
      '} from "../../src/tooling/bench/node-call-harness.ts";',
      'export { z } from "../tooling/load/stats.ts";',
      'const m = await import("../tooling/cli/bench.ts");',
      'import "../../test/support/env.ts";',
      'import fc from "fast-check";',
      'import { Hono } from "hono";',
      'import { readFileSync } from "node:fs";',
      'import { DurableObject } from "cloudflare:workers";',
      'import { parseFlow } from "../flow/schema.ts";',
      '// import { x } from "../tooling/emulators/twilio.ts";',
      'const prose = "we import nothing from tooling";',
    ].join("\n");
    const violations = findBoundaryViolations([{ path: "src/call/engine.ts", text }], DEPS);
    expect(violations.map((v) => [v.line, v.specifier])).toEqual([
      [1, "../tooling/emulators/twilio.ts"],
      [2, "../tooling/simulator/virtual/world.ts"],
      [5, "../../src/tooling/bench/node-call-harness.ts"],
      [6, "../tooling/load/stats.ts"],
      [7, "../tooling/cli/bench.ts"],
      [8, "../../test/support/env.ts"],
      [9, "fast-check"],
    ]);
    expect(violations[6]?.reason).toMatch(/not in package.json dependencies/);
  });

  it("lets tooling import anything", () => {
    const text = 'import fc from "fast-check";\nimport { x } from "../emulators/twilio.ts";';
    expect(findBoundaryViolations([{ path: "src/tooling/bench/a.ts", text }], DEPS)).toEqual([]);
  });

  it("holds for the repository, and the lint step runs the check", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.lint).toContain("src/tooling/cli/check-boundaries.ts");
    const out = execFileSync(process.execPath, ["--import", "tsx", "src/tooling/cli/check-boundaries.ts"], {
      encoding: "utf8",
    });
    expect(out).toMatch(/none imports tooling/);
  });
});
