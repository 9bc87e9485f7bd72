/**
 * `npm run lint` step: fails when Worker code (src/ outside src/tooling/, durable-objects/) imports
 * tooling, tests or a devDependency. See src/tooling/boundaries.ts for the rule.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findBoundaryViolations, type SourceFile } from "../boundaries.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function sources(dir: string, out: SourceFile[] = []): SourceFile[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) sources(path, out);
    else if (/\.(ts|tsx|mts)$/.test(entry.name))
      out.push({ path, text: readFileSync(join(ROOT, path), "utf8") });
  }
  return out;
}

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
};
const files = [...sources("src"), ...sources("durable-objects")];
const violations = findBoundaryViolations(files, new Set(Object.keys(pkg.dependencies ?? {})));
for (const v of violations) console.error(`${v.file}:${v.line}: ${v.specifier}: ${v.reason}`);
if (violations.length > 0) {
  console.error(`boundaries: ${violations.length} violation(s)`);
  process.exit(1);
}
console.log(
  `boundaries: ${files.length} Worker files checked, none imports tooling, tests or a devDependency`,
);
