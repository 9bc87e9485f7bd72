/** CLI: print a flow's Mermaid state diagram (`npm run flow:diagram FILE [--highlight a,b,c]`). */
import { readFileSync } from "node:fs";
import { flowToMermaid } from "../../flow/diagram";
import { parseFlow } from "../../flow/schema";

function main(argv: string[]): number {
  const file = argv.find((a) => !a.startsWith("--"));
  const hi = argv.indexOf("--highlight");
  if (file === undefined) {
    console.error("usage: npm run flow:diagram -- FILE [--highlight state1,state2]");
    return 2;
  }
  const highlight = hi >= 0 ? (argv[hi + 1] ?? "").split(",").filter((s) => s !== "") : [];
  const flow = parseFlow(JSON.parse(readFileSync(file, "utf8")));
  process.stdout.write(flowToMermaid(flow, highlight));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
