// Isolates the public surface of the turn engine's pure modules.

export * from "./caller-question";
export * from "./dtmf-speech";
export * from "./fast-path";
export * from "./fast-path-corpus";
export * from "./history";
export * from "./latency";
export * from "./normalise";
export * from "./opt-out";
export * from "./phrase-chunker";
export * from "./slot-choice";
export * from "./speculative";
