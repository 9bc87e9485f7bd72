/** Call-flow engine: public API (format, checks, interpreter, templates, time, diagrams). */

export { ENGLAND_WALES_BANK_HOLIDAYS } from "./bank-holidays";
export * from "./check";
export * from "./diagram";
export * from "./graph";
export * from "./interpreter";
export * from "./json-schema";
export * from "./reask";
export * from "./schema";
export * from "./template";
export * from "./time";
export type * from "./types";
