/**
 * The OpenAI chat-completions wire format, shared by every OpenAI-compatible provider (OpenAI, Groq, Ollama,
 * vLLM, llama.cpp server): context → messages, tools, and streamed chunks → our ChatChunks.
 */
import type { ChatContext, FunctionCall } from '../../llm/chatContext.ts';
import type { ToolChoice, ToolDefinition } from '../../llm/tools.ts';
import type { ChatChunk, FunctionToolCall } from '../../providers/types.ts';
import { imageUrl } from './imageFormat.ts';

export type WireContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export type WireMessage =
  | { role: 'system' | 'developer' | 'user'; content: string }
  | { role: 'user'; content: WireContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** What a running tool's call is answered with until its output exists (the API needs one per call). */
export const TOOL_IN_PROGRESS = 'The tool call is still in progress.';

/**
 * Converts a chat context to API messages. Consecutive function calls become one assistant message, each followed
 * by the output of every call (found by call id wherever it sits in the context), as the API requires.
 */
export function toWireMessages(ctx: ChatContext): WireMessage[] {
  const outputs = new Map<string, string>();
  for (const it of ctx.items) if (it.type === 'function_call_output') outputs.set(it.callId, it.output);
  const msgs: WireMessage[] = [];
  let calls: FunctionCall[] = [];
  const flushCalls = () => {
    if (!calls.length) return;
    msgs.push({
      role: 'assistant',
      content: null,
      tool_calls: calls.map((c) => ({ id: c.callId, type: 'function', function: { name: c.name, arguments: c.arguments || '{}' } })),
    });
    for (const c of calls) msgs.push({ role: 'tool', tool_call_id: c.callId, content: outputs.get(c.callId) ?? TOOL_IN_PROGRESS });
    calls = [];
  };
  for (const it of ctx.items) {
    if (it.type === 'function_call') {
      calls.push(it);
      continue;
    }
    flushCalls();
    if (it.type === 'message') {
      const text = it.content.join('\n');
      if (it.role === 'user' && it.images?.length) {
        // Image input: the text part, then each image (raw frames as JPEG data URLs).
        const parts: WireContentPart[] = text ? [{ type: 'text', text }] : [];
        for (const img of it.images) parts.push({ type: 'image_url', image_url: { url: imageUrl(img) } });
        msgs.push({ role: 'user', content: parts });
      } else msgs.push(it.role === 'assistant' ? { role: 'assistant', content: text } : { role: it.role, content: text });
    }
    // function_call_output items were placed with their calls; handoffs and config updates are not for the model.
  }
  flushCalls();
  return msgs;
}

export function toWireTools(tools: ToolDefinition[]) {
  return tools.map((t) => ({ type: 'function' as const, function: { name: t.name, description: t.description, parameters: t.parameters } }));
}

export function toWireToolChoice(c: ToolChoice | undefined) {
  if (!c) return undefined;
  return typeof c === 'string' ? c : { type: 'function' as const, function: { name: c.name } };
}

/**
 * Best-effort repair of truncated or sloppy JSON arguments (unclosed strings/brackets, trailing commas).
 * Returns the repaired text when it parses, else the input unchanged (the tool then reports a parse error).
 */
export function repairJson(text: string): string {
  const t = text.trim();
  if (!t) return t;
  try {
    JSON.parse(t);
    return t;
  } catch {
    /* try to repair */
  }
  let out = '';
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (const ch of t) {
    out += ch;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') stack.push(ch === '{' ? '}' : ']');
    else if (ch === '}' || ch === ']') stack.pop();
  }
  if (inString) out += escaped ? '\\"' : '"';
  out = out.replace(/,\s*$/, '').replace(/:\s*$/, ': null');
  for (let i = stack.length - 1; i >= 0; i--) out = out.replace(/,\s*$/, '') + stack[i];
  out = out.replace(/,(\s*[}\]])/g, '$1');
  try {
    JSON.parse(out);
    return out;
  } catch {
    return text;
  }
}

/** One streamed chunk as the SDKs deliver it (only the fields we read). */
export interface WireChunk {
  id: string;
  choices?: Array<{
    delta?: { content?: string | null; tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }> };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
}

/** Accumulates tool-call fragments by index and turns wire chunks into ChatChunks. */
export class ChunkAssembler {
  private calls = new Map<number, { id: string; name: string; args: string }>();
  private id = '';

  push(chunk: WireChunk): ChatChunk[] {
    this.id ||= chunk.id;
    const out: ChatChunk[] = [];
    for (const choice of chunk.choices ?? []) {
      const d = choice.delta;
      if (d?.content) out.push({ id: this.id, delta: { content: d.content } });
      for (const tc of d?.tool_calls ?? []) {
        const cur = this.calls.get(tc.index) ?? { id: '', name: '', args: '' };
        if (tc.id) cur.id = tc.id;
        if (tc.function?.name) cur.name += tc.function.name;
        if (tc.function?.arguments) cur.args += tc.function.arguments;
        this.calls.set(tc.index, cur);
      }
      if (choice.finish_reason) {
        const done = this.takeCalls();
        if (done.length) out.push({ id: this.id, delta: { toolCalls: done } });
        out.push({ id: this.id, finishReason: choice.finish_reason });
      }
    }
    if (chunk.usage) {
      const u = chunk.usage;
      out.push({
        id: this.id,
        usage: {
          promptTokens: u.prompt_tokens,
          completionTokens: u.completion_tokens,
          totalTokens: u.total_tokens,
          promptCachedTokens: u.prompt_tokens_details?.cached_tokens,
        },
      });
    }
    return out;
  }

  /** Calls still open when the stream ends (a server that never sent finish_reason). */
  end(): ChatChunk[] {
    const done = this.takeCalls();
    return done.length ? [{ id: this.id, delta: { toolCalls: done } }] : [];
  }

  private takeCalls(): FunctionToolCall[] {
    const done = [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, c]) => ({ callId: c.id || `call_${this.id}_${i}`, name: c.name, arguments: repairJson(c.args) }));
    this.calls.clear();
    return done;
  }
}
