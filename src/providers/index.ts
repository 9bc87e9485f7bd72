/** Public surface of the voice providers: ports, production adapters, the WebSocket seam and the pure decision helpers. */
export type * from "./ports";
export type { OpenWebSocket, OpenWebSocketOptions, WebSocketLike } from "./websocket";
export { openWorkerdWebSocket } from "./websocket";
export { createDeepgramStt, deepgramListenUrl, type DeepgramConfig } from "./deepgram";
export { createElevenLabsTts, parseElevenLabsMessage, type ElevenLabsConfig } from "./elevenlabs";
export { createOpenAiLlm, toProviderError as toOpenAiProviderError, type OpenAiConfig } from "./openai";
export { createAzureTts, buildSsml, type AzureTtsConfig } from "./azure-tts";
export { createGoogleStt, type GoogleSttConfig } from "./google-stt";
export {
  DECISION_SYSTEM_PROMPT,
  DECISION_TOOL_NAME,
  ReplyFieldExtractor,
  buildDecisionMessages,
  buildDecisionTool,
  parseDecisionArguments,
  type DecisionTool,
} from "./decision-tool";
export { AsyncQueue } from "./async-queue";
