import { Observable } from 'rxjs';
import type { ChatChunk, LLM, LLMRequest } from '../../providers/types.ts';
import { APIError } from '../../providers/errors.ts';
import { connectOptions, withOverrides, withRetries, type APIConnectOptions } from '../../providers/retry.ts';
import { openaiClient, type HTTPClientOptions } from './client.ts';
import { ChunkAssembler, toWireMessages, toWireToolChoice, toWireTools, type WireChunk } from './chatFormat.ts';

export interface OpenAICompatibleOptions extends HTTPClientOptions {
  model: string;
  /** Any OpenAI-compatible server: Ollama (http://localhost:11434/v1), vLLM, llama.cpp server… */
  baseURL?: string;
  temperature?: number;
}

/** The part of the two SDKs we use: a streaming chat completion that honours an AbortSignal. */
export type CreateStream = (body: Record<string, unknown>, signal: AbortSignal) => Promise<AsyncIterable<WireChunk>>;

/**
 * Streaming chat completions with tools over the OpenAI wire format. Unsubscribing aborts the HTTP stream at once;
 * failures before the first token are retried (see `withRetries`), never after.
 */
export class OpenAICompatibleLLM implements LLM {
  readonly conn: APIConnectOptions;

  constructor(
    readonly label: string,
    readonly model: string,
    private readonly create: CreateStream,
    private readonly opts: { temperature?: number; connOptions?: Partial<APIConnectOptions> } = {},
  ) {
    this.conn = connectOptions(opts.connOptions);
  }

  chat(req: LLMRequest): Observable<ChatChunk> {
    const body: Record<string, unknown> = {
      model: this.model,
      messages: toWireMessages(req.chatCtx),
      stream: true,
      stream_options: { include_usage: true },
      ...(this.opts.temperature !== undefined ? { temperature: this.opts.temperature } : {}),
    };
    if (req.tools.length) {
      body.tools = toWireTools(req.tools);
      body.tool_choice = toWireToolChoice(req.toolChoice);
      if (req.parallelToolCalls !== undefined) body.parallel_tool_calls = req.parallelToolCalls;
    }
    return withRetries(
      (signal) =>
        new Observable<ChatChunk>((sub) => {
          const asm = new ChunkAssembler();
          (async () => {
            const stream = await this.create(body, signal);
            for await (const chunk of stream) {
              if (signal.aborted) return;
              if (!chunk || typeof chunk !== 'object') throw new APIError(`malformed stream chunk from ${this.label}`, { retryable: false });
              for (const c of asm.push(chunk)) sub.next(c);
            }
            for (const c of asm.end()) sub.next(c);
            sub.complete();
          })().catch((e) => {
            if (!signal.aborted) sub.error(e);
          });
        }),
      withOverrides(this.conn, req.connOptions),
      req.onError,
    );
  }
}

export class OpenAILLM extends OpenAICompatibleLLM {
  constructor(opts: OpenAICompatibleOptions) {
    const { client } = openaiClient(opts, 'OpenAILLM');
    super(`openai/${opts.model}`, opts.model, (body, signal) =>
      client().then((c) => c.chat.completions.create(body as never, { signal }) as unknown as Promise<AsyncIterable<WireChunk>>),
    opts);
  }
}
