/** Public surface of the voice providers: ports, production adapters, the WebSocket seam and the pure decision helpers. */

export { AsyncQueue } from "./async-queue";
export { type AzureTtsConfig, buildSsml, createAzureTts } from "./azure-tts";
export {
  buildDecisionMessages,
  buildDecisionTool,
  DECISION_SYSTEM_PROMPT,
  DECISION_TOOL_NAME,
  type DecisionTool,
  parseDecisionArguments,
  ReplyFieldExtractor,
} from "./decision-tool";
export { createDeepgramStt, type DeepgramConfig, deepgramListenUrl } from "./deepgram";
export { createElevenLabsTts, type ElevenLabsConfig, parseElevenLabsMessage } from "./elevenlabs";
export { createGoogleStt, type GoogleSttConfig } from "./google-stt";
export { createOpenAiLlm, type OpenAiConfig, toProviderError as toOpenAiProviderError } from "./openai";
export type * from "./ports";
export type { OpenWebSocket, OpenWebSocketOptions, WebSocketLike } from "./websocket";
export { openWorkerdWebSocket } from "./websocket";
