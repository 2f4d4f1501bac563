import { Observable } from 'rxjs';
import type { ChatContext, ChatItem } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import type { ChatChunk, FunctionToolCall, LLM, LLMRequest } from '../providers/types.ts';

export interface FakeLLMResponse {
  /** Matched against the last user message, or the output of the last tool call when that is newer. */
  input: string;
  content?: string;
  toolCalls?: Array<{ name: string; arguments: string | Record<string, unknown>; callId?: string }>;
  /** ms to the first chunk. */
  ttft?: number;
  /** ms from request to the last chunk (content is spread evenly between ttft and duration). */
  duration?: number;
  /** Fail instead of answering, after `ttft`. */
  error?: Error;
}

/** The text a fake LLM answers to: the newest user message or tool output in the context. */
export function fakeLlmKey(ctx: ChatContext): string {
  for (let i = ctx.items.length - 1; i >= 0; i--) {
    const it = ctx.items[i]!;
    if (it.type === 'function_call_output') return it.output;
    if (it.type === 'message' && it.role === 'user') return it.content.join('\n');
  }
  return '';
}

/**
 * An LLM that answers from a script, in (virtual) time. Unknown inputs produce no chunk at all, as a model that
 * returned nothing. Every request is recorded in `requests` for assertions.
 */
export class FakeLLM implements LLM {
  readonly label = 'fake-llm';
  readonly model = 'fake';
  readonly requests: Array<{ key: string; toolChoice: LLMRequest['toolChoice']; tools: string[]; cancelled: boolean; items: ChatItem[] }> = [];
  private readonly responses = new Map<string, FakeLLMResponse>();

  constructor(responses: FakeLLMResponse[] = []) {
    for (const r of responses) this.responses.set(r.input, r);
  }

  add(r: FakeLLMResponse): this {
    this.responses.set(r.input, r);
    return this;
  }

  chat(request: LLMRequest): Observable<ChatChunk> {
    return new Observable<ChatChunk>((sub) => {
      const key = fakeLlmKey(request.chatCtx);
      // The context as sent (a copy of the list: later turns must not change what this request held).
      const record = { key, toolChoice: request.toolChoice, tools: request.tools.map((t) => t.name), cancelled: false, items: [...request.chatCtx.items] };
      this.requests.push(record);
      const r = this.responses.get(key);
      const timers: ReturnType<typeof setTimeout>[] = [];
      // Zero delays run synchronously: timers clamp 0 to 1 ms, which would skew timing assertions.
      const at = (ms: number, fn: () => void) => (ms <= 0 ? fn() : void timers.push(setTimeout(fn, ms)));
      let finished = false;
      if (!r) {
        sub.complete();
        return;
      }
      const id = shortId('chatcmpl_');
      const ttft = r.ttft ?? 0;
      const duration = Math.max(r.duration ?? ttft, ttft);
      if (r.error) {
        at(ttft, () => ((finished = true), sub.error(r.error)));
      } else {
        const words = (r.content ?? '').split(/(?<=\s)/).filter(Boolean);
        const parts = words.length;
        words.forEach((w, i) => at(ttft + (parts > 1 ? ((duration - ttft) * i) / (parts - 1) : 0), () => sub.next({ id, delta: { content: w } })));
        at(duration, () => {
          const calls: FunctionToolCall[] = (r.toolCalls ?? []).map((c, i) => ({
            callId: c.callId ?? `call_${i}`,
            name: c.name,
            arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
          }));
          if (calls.length) sub.next({ id, delta: { toolCalls: calls } });
          const completionTokens = words.length;
          // One token per item the model sees (handoff and config-update items are not sent to models).
          const promptTokens = request.chatCtx.items.filter((i) => i.type !== 'agent_handoff' && i.type !== 'agent_config_update').length;
          sub.next({ id, usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens } });
          finished = true;
          sub.complete();
        });
      }
      return () => {
        if (!finished) record.cancelled = true;
        for (const t of timers) clearTimeout(t);
      };
    });
  }
}
