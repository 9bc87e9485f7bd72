/** Public surface of the outside-service clients, webhook signature checks and in-call actions. */
export * from "./action-schemas";
export * from "./actions";
export * from "./calcom";
export * from "./http";
export * from "./hubspot";
export * from "./lead";
export * from "./slack";
export * from "./slots";
export * from "./twilio-rest";
export * from "./twilio-signature";
