/** JSON Schema for flow files, generated from the zod definition so editors can autocomplete them. */
import { z } from "zod";
import { FlowSchema } from "./schema";

/** Repository path of the committed schema (flow files reference it as "./flow.schema.json"). */
export const FLOW_JSON_SCHEMA_PATH = "src/flows/flow.schema.json";

/** The JSON Schema of a flow file (input shape: fields with defaults are optional). */
export function flowJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(FlowSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: "Call flow",
    description: "A phone call flow: a state machine whose every transition is explicit.",
  };
}

/** The schema file's exact text (2-space JSON, trailing newline). */
export function flowJsonSchemaText(): string {
  return `${JSON.stringify(flowJsonSchema(), null, 2)}\n`;
}
