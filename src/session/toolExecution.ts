import { Agent } from '../agent.ts';
import type { FunctionCall, FunctionCallOutput } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import { StopResponse, ToolArgumentsError, ToolError, type FunctionTool, type RunContext } from '../llm/tools.ts';

/** The outcome of one tool call: exactly one output (or none when tool_choice was "none"), maybe a handoff. */
export interface ToolResult {
  call: FunctionCall;
  output: FunctionCallOutput;
  /** Whether the model should be asked to reply to this output. */
  replyRequired: boolean;
  agent: Agent | null;
}

function makeOutput(call: FunctionCall, output: string, isError: boolean): FunctionCallOutput {
  return { type: 'function_call_output', id: shortId('item_'), callId: call.callId, name: call.name, output, isError, createdAt: Date.now() };
}

/** Decodes model-produced arguments: empty means `{}`, anything else must be a JSON object. */
export function decodeArguments(raw: string): Record<string, unknown> {
  const text = raw.trim();
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ToolArgumentsError(`invalid JSON (${(e as Error).message})`);
  }
  // Some models double-encode: a JSON string holding the object.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      /* reported below */
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ToolArgumentsError(`expected a JSON object, got ${Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

const isPlainValue = (v: unknown): boolean =>
  v === null ||
  v === undefined ||
  ['string', 'number', 'boolean'].includes(typeof v) ||
  (Array.isArray(v) && v.every(isPlainValue)) ||
  (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(isPlainValue));

/** Turns a tool's return value into (output text, reply wanted, handoff agent). */
function interpretReturn(value: unknown): { text: string; replyRequired: boolean; agent: Agent | null; error?: string } {
  if (value instanceof Agent) return { text: '', replyRequired: false, agent: value };
  if (Array.isArray(value) && value.some((v) => v instanceof Agent)) {
    const agents = value.filter((v) => v instanceof Agent) as Agent[];
    if (agents.length > 1) return { text: '', replyRequired: false, agent: null, error: 'the tool returned more than one agent' };
    const rest = value.filter((v) => !(v instanceof Agent));
    const inner = interpretReturn(rest.length === 1 ? rest[0] : rest.length === 0 ? undefined : rest);
    return { ...inner, agent: agents[0]! };
  }
  if (!isPlainValue(value)) return { text: '', replyRequired: false, agent: null, error: 'the tool returned an invalid output' };
  if (value === null || value === undefined) return { text: '', replyRequired: false, agent: null };
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return { text, replyRequired: true, agent: null };
}

/**
 * Runs one tool call to exactly one output. Never throws: unknown tools, bad arguments and tool failures all
 * become error outputs (internal details of unexpected exceptions never reach the model).
 */
export async function executeToolCall(
  call: FunctionCall,
  tools: readonly FunctionTool[],
  makeContext: (call: FunctionCall) => RunContext,
  onUnexpectedError: (e: unknown, tool: string) => void,
  signal: AbortSignal,
): Promise<ToolResult> {
  const fail = (msg: string): ToolResult => ({ call, output: makeOutput(call, msg, true), replyRequired: true, agent: null });
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) {
    return fail(`Unknown function: ${call.name} - available tools: ${tools.map((t) => t.name).join(', ')}`);
  }
  let args: unknown;
  try {
    // The call keeps the model's arguments verbatim (what the model said is what the history shows).
    args = tool.parse(decodeArguments(call.arguments));
  } catch (e) {
    return fail(`Error parsing arguments for \`${call.name}\`: ${(e as Error).message}`);
  }
  try {
    call.createdAt = Date.now();
    if (signal.aborted) return fail(cancelledMessage(signal));
    const value = await untilAborted(Promise.resolve().then(() => tool.execute(args, makeContext(call))), signal);
    if (value === ABORTED) return fail(cancelledMessage(signal));
    const r = interpretReturn(value);
    if (r.error) return fail(r.error);
    return { call, output: makeOutput(call, r.text, false), replyRequired: r.replyRequired, agent: r.agent };
  } catch (e) {
    if (signal.aborted) return fail(cancelledMessage(signal));
    if (e instanceof StopResponse) return { call, output: makeOutput(call, '', false), replyRequired: false, agent: null };
    if (e instanceof ToolError) return fail(e.message);
    onUnexpectedError(e, call.name);
    return fail('An internal error occurred');
  }
}

const ABORTED = Symbol('aborted');

/** The tool's result, or ABORTED as soon as the signal fires (a tool that ignores the signal is not waited for). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function cancelledMessage(signal: AbortSignal): string {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'the speech was interrupted';
  return `The tool call was cancelled: ${reason}`;
}
