/**
 * The line between what ships in the Worker and what is tooling.
 *
 * Product code is everything under `src/` except `src/tooling/`, plus `durable-objects/`. It may
 * import other product code and the packages in `dependencies`, nothing else: not the emulators,
 * simulator, bench, load or CLIs under `src/tooling/`, not `test/`, and not a package that is only
 * a devDependency (it would be missing from a production install, or silently bundled). Type-only
 * imports count too: a type from tooling in a product signature drags the tooling along with it.
 */
import { posix } from "node:path";

export interface SourceFile {
  /** Repository-relative path with forward slashes, e.g. `src/call/engine.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  reason: string;
}

export const TOOLING_DIR = "src/tooling/";

export function isProductFile(path: string): boolean {
  return (path.startsWith("src/") && !path.startsWith(TOOLING_DIR)) || path.startsWith("durable-objects/");
}

/**
 * Module specifiers on a line: `import … from "x"` / `export … from "x"` (also the closing `} from "x"`
 * of a multi-line import), `import "x"` and `import("x")`. Anchored so prose and strings that
 * merely contain the word "import" are not read as imports.
 */
const SPECIFIER =
  /(?:^\s*(?:import|export)\b[^"'`]*?\bfrom\s*|^\s*\}\s*from\s*|^\s*import\s*|\bimport\(\s*)(["'])([@\w./:-][^\s"'`${}]*)\1/g;

/** The package name of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || specifier.startsWith("cloudflare:");
}

/** Every boundary violation in the given files; `dependencies` are the package names the Worker may use. */
export function findBoundaryViolations(
  files: readonly SourceFile[],
  dependencies: ReadonlySet<string>,
): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    if (!isProductFile(file.path)) continue;
    const lines = file.text.split("\n");
    lines.forEach((text, i) => {
      const trimmed = text.trimStart();
      if (trimmed.startsWith("//") || trimmed.startsWith("*")) return;
      for (const m of text.matchAll(SPECIFIER)) {
        const specifier = m[2] ?? "";
        const reason = violationOf(file.path, specifier, dependencies);
        if (reason !== null) out.push({ file: file.path, line: i + 1, specifier, reason });
      }
    });
  }
  return out;
}

function violationOf(from: string, specifier: string, dependencies: ReadonlySet<string>): string | null {
  if (specifier.startsWith(".")) {
    const target = posix.normalize(posix.join(posix.dirname(from), specifier));
    if (target.startsWith(TOOLING_DIR) || `${target}/` === TOOLING_DIR) {
      return "product code imports tooling (src/tooling/ is for emulators, simulator, bench, load and CLIs)";
    }
    if (target.startsWith("test/") || target === "test") return "product code imports a test file";
    return null;
  }
  if (isBuiltin(specifier)) return null;
  const name = packageName(specifier);
  if (!dependencies.has(name))
    return `product code imports "${name}", which is not in package.json dependencies`;
  return null;
}
