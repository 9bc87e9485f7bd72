/** CLI: validate flow files (`npm run flow:check FILE...`) and (re)generate or verify the flow JSON Schema. */
import { readFileSync, writeFileSync } from "node:fs";
import { checkFlow } from "../../flow/check";
import { FLOW_JSON_SCHEMA_PATH, flowJsonSchema, flowJsonSchemaText } from "../../flow/json-schema";
import { FlowError, parseFlow } from "../../flow/schema";

const USAGE = `usage: npm run flow:check -- FILE... | --write-schema [PATH] | --check-schema [PATH]`;

/** Check one file; returns the problems as printable lines (empty when the flow is valid). */
export function checkFile(file: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    return [`${file}: cannot read JSON: ${err instanceof Error ? err.message : String(err)}`];
  }
  try {
    const flow = parseFlow(json);
    return checkFlow(flow).map((i) => `${file}: [${i.rule}] ${i.message}`);
  } catch (err) {
    if (err instanceof FlowError)
      return err.issues.map((i) => `${file}: [schema] ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw err;
  }
}

function main(argv: string[]): number {
  const [first, second] = argv;
  if (first === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (first === "--write-schema") {
    writeFileSync(second ?? FLOW_JSON_SCHEMA_PATH, flowJsonSchemaText());
    console.log(`wrote ${second ?? FLOW_JSON_SCHEMA_PATH}`);
    return 0;
  }
  if (first === "--check-schema") {
    const path = second ?? FLOW_JSON_SCHEMA_PATH;
    // Compare as JSON, not text: the formatter may re-wrap the committed file.
    const current: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (JSON.stringify(current) === JSON.stringify(flowJsonSchema())) return 0;
    console.error(`${path} is stale: run npm run flow:check -- --write-schema`);
    return 1;
  }
  let failed = 0;
  for (const file of argv) {
    const problems = checkFile(file);
    for (const p of problems) console.error(p);
    if (problems.length === 0) console.log(`${file}: ok`);
    else failed += 1;
  }
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  process.exitCode = main(process.argv.slice(2));
}
