/** OpenAI LLM adapter (the `openai` package): one streamed, narrow tool call per turn, reply text streamed out as it arrives. */
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ProviderError } from "../lib/errors";
import { AsyncQueue } from "./async-queue";
import {
  buildDecisionMessages,
  buildDecisionTool,
  DECISION_TOOL_NAME,
  parseDecisionArguments,
  ReplyFieldExtractor,
} from "./decision-tool";
import { parseRetryAfterMs } from "./llm-retry-policy";
import type { Decision, DecisionRequest, DecisionStream, LanguageModel } from "./ports";

const PROVIDER = "openai";

/** Adapter configuration; `baseURL` points at the real API or the emulator. */
export interface OpenAiConfig {
  apiKey: string;
  /** Default `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Default `gpt-4o-mini`. */
  model?: string;
  /** Per-request timeout until response headers (a backstop; the retry policy sets tighter deadlines). Default 4000. */
  timeoutMs?: number;
  /**
   * SDK retries (408/409/429/5xx, honouring retry-after). Default 0: the turn-budget-aware policy
   * (`withLlmRetry`) owns retries, and SDK retries inside an attempt would wait past the turn budget.
   */
  maxRetries?: number;
  /** Default 80: branch + captures + a ≤30-token reply. */
  maxCompletionTokens?: number;
  /** Omit for reasoning models, which reject it. Default 0. */
  temperature?: number | null;
  /** Clock for first-token timing; default `performance.now`. */
  nowMs?: () => number;
  /** Injected fetch (tests, or Workers service bindings). */
  fetch?: typeof fetch;
}

/** Map any SDK failure to a typed ProviderError. */
export function toProviderError(error: unknown, signal?: AbortSignal): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof APIUserAbortError || signal?.aborted === true) {
    return new ProviderError(PROVIDER, "request aborted", undefined, { retryable: false, cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError(PROVIDER, "request timed out", undefined, {
      retryable: true,
      code: "timeout",
      cause: error,
    });
  }
  if (error instanceof APIError) {
    // `code` is null on 5xx bodies; the error `type` (`server_error`, `insufficient_quota`) stands in.
    const code =
      typeof error.code === "string" ? error.code : typeof error.type === "string" ? error.type : undefined;
    const headers = error.headers;
    return new ProviderError(
      PROVIDER,
      `API error${error.status === undefined ? "" : ` ${error.status}`}${code ? ` ${code}` : ""}`,
      error.status,
      {
        requestId: error.requestID ?? undefined,
        cause: error,
        code,
        retryAfterMs: headers ? parseRetryAfterMs((name) => headers.get(name), Date.now()) : undefined,
        ...(code === "insufficient_quota" ? { retryable: false } : {}),
      },
    );
  }
  return new ProviderError(PROVIDER, "stream failed", undefined, { retryable: true, cause: error });
}

/** Create the OpenAI adapter. Build it per Durable Object, not at module scope. */
export function createOpenAiLlm(config: OpenAiConfig): LanguageModel {
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL ?? "https://api.openai.com/v1",
    timeout: config.timeoutMs ?? 4000,
    maxRetries: config.maxRetries ?? 0,
    ...(config.fetch ? { fetch: config.fetch } : {}),
  });
  const now = config.nowMs ?? (() => performance.now());

  function decideStream(req: DecisionRequest): DecisionStream {
    const deltas = new AsyncQueue<string>();
    const model = req.model ?? config.model ?? "gpt-4o-mini";
    const run = async (): Promise<Decision> => {
      const startMs = now();
      let firstTokenMs = -1;
      let args = "";
      let content = "";
      const extractor = new ReplyFieldExtractor();
      try {
        const stream = await client.chat.completions.create(
          {
            model,
            messages: buildDecisionMessages(req.system, req.history, req.state),
            tools: [buildDecisionTool(req.state)],
            tool_choice: { type: "function", function: { name: DECISION_TOOL_NAME } },
            stream: true,
            stream_options: { include_usage: true },
            max_completion_tokens: config.maxCompletionTokens ?? 80,
            ...(config.temperature === null ? {} : { temperature: config.temperature ?? 0 }),
          },
          req.signal ? { signal: req.signal } : {},
        );
        req.onStarted?.();
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (delta === undefined) continue;
          const fragments = (delta.tool_calls ?? []).map((t) => t.function?.arguments ?? "");
          if (delta.content) content += delta.content;
          if (firstTokenMs < 0 && (fragments.some((f) => f.length > 0) || (delta.content ?? "").length > 0)) {
            firstTokenMs = now() - startMs;
          }
          for (const f of fragments) {
            args += f;
            const text = extractor.push(f);
            if (text.length > 0) deltas.push(text);
          }
        }
      } catch (error) {
        throw toProviderError(error, req.signal);
      }
      // The SDK ends iteration quietly when the signal aborts mid-stream.
      if (req.signal?.aborted === true) throw toProviderError(req.signal.reason, req.signal);
      const parsed = parseDecisionArguments(args, req.state);
      if (!parsed.ok) {
        throw new ProviderError(
          PROVIDER,
          `unusable tool call: ${parsed.error}${content ? " (model replied with text)" : ""}`,
          undefined,
          { retryable: false, code: "unusable_tool_call" },
        );
      }
      return { ...parsed.value, firstTokenMs: Math.max(0, firstTokenMs), model };
    };
    const result = run().then(
      (decision) => {
        deltas.end();
        return decision;
      },
      (error: unknown) => {
        deltas.fail(error);
        throw error;
      },
    );
    result.catch(() => undefined);
    return { replyDeltas: deltas, result };
  }

  return {
    provider: PROVIDER,
    decideStream,
    decide: (req) => decideStream(req).result,
  };
}
