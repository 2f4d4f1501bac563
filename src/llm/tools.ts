import { z } from 'zod';
import type { ChatContext } from './chatContext.ts';

/** JSON Schema object as sent to the model. */
export type JSONSchema = { [key: string]: unknown };

export type ToolChoice = 'auto' | 'required' | 'none' | { type: 'function'; name: string };

/** What the model sees of a tool. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: JSONSchema;
}

/**
 * Context handed to a tool's `execute`. `speechHandle` is the speech whose LLM step called the tool,
 * typed loosely here to keep this module free of the session's imports.
 */
export interface RunContext<UserData = unknown> {
  readonly session: { readonly userdata: UserData; readonly history: ChatContext } & Record<string, any>;
  readonly speechHandle: { readonly id: string; readonly interrupted: boolean } & Record<string, any>;
  readonly functionCall: { callId: string; name: string; arguments: string };
  readonly userdata: UserData;
  /** Waits until the audio of the step that called this tool has played out. */
  waitForPlayout(): Promise<void>;
  /**
   * Aborted when the speech that called the tool is interrupted or the session closes. A tool that does not stop
   * is not waited for: its call gets a "cancelled" error output at once, and whatever it returns later is dropped.
   */
  readonly abortSignal: AbortSignal;
}

export interface FunctionTool<Args = any, UserData = any> extends ToolDefinition {
  readonly kind: 'function';
  /** Validates and coerces raw decoded arguments; throws ToolArgumentsError with the reason. */
  parse(args: unknown): Args;
  execute(args: Args, ctx: RunContext<UserData>): unknown | Promise<unknown>;
}

/** Raised by a tool to return `message` to the model as an error output. */
export class ToolError extends Error {
  override name = 'ToolError';
}

/** Raised by a tool (or `onUserTurnCompleted`) to stop the reply without any output to the model. */
export class StopResponse extends Error {
  override name = 'StopResponse';
  constructor() {
    super('stop response');
  }
}

export class ToolArgumentsError extends Error {
  override name = 'ToolArgumentsError';
}

type ZodLike = z.ZodType;

export interface FunctionToolOptions<Args, UserData> {
  name: string;
  description: string;
  /** A zod object schema (validated and coerced) or a plain JSON schema (checked for required keys and types). */
  parameters?: ZodLike | JSONSchema;
  execute: (args: Args, ctx: RunContext<UserData>) => unknown | Promise<unknown>;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export function functionTool<Args = any, UserData = any>(opts: FunctionToolOptions<Args, UserData>): FunctionTool<Args, UserData> {
  if (!TOOL_NAME.test(opts.name)) {
    throw new TypeError(`tool name ${JSON.stringify(opts.name)} must match ${TOOL_NAME} (model APIs reject other names)`);
  }
  const params = opts.parameters ?? { type: 'object', properties: {} };
  const isZod = params instanceof z.ZodType;
  const jsonSchema: JSONSchema = isZod ? stripSchemaMeta(z.toJSONSchema(params as ZodLike) as JSONSchema) : (params as JSONSchema);
  if (jsonSchema.type !== 'object') throw new TypeError(`tool ${opts.name}: parameters must describe an object`);
  return {
    kind: 'function',
    name: opts.name,
    description: opts.description,
    parameters: jsonSchema,
    parse: isZod
      ? (args) => {
          const r = (params as ZodLike).safeParse(args);
          if (!r.success) throw new ToolArgumentsError(z.prettifyError(r.error));
          return r.data as Args;
        }
      : (args) => checkJsonSchema(jsonSchema, args, '') as Args,
    execute: opts.execute,
  };
}

function stripSchemaMeta(s: JSONSchema): JSONSchema {
  const { $schema: _ignored, ...rest } = s;
  return rest;
}

const typeOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;

/** A deliberately small JSON-schema check: object/required/properties/type/enum, recursively. */
function checkJsonSchema(schema: JSONSchema, value: unknown, path: string): unknown {
  const where = path || 'arguments';
  const t = schema.type as string | string[] | undefined;
  if (t) {
    const allowed = Array.isArray(t) ? t : [t];
    const actual = typeOf(value);
    const ok = allowed.some((a) => a === actual || (a === 'number' && actual === 'integer'));
    if (!ok) throw new ToolArgumentsError(`${where}: expected ${allowed.join(' | ')}, got ${actual}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value as never)) {
    throw new ToolArgumentsError(`${where}: must be one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in obj)) throw new ToolArgumentsError(`${path ? path + '.' : ''}${key}: required field is missing`);
    }
    const props = (schema.properties ?? {}) as Record<string, JSONSchema>;
    for (const [key, sub] of Object.entries(props)) {
      if (key in obj) checkJsonSchema(sub, obj[key], path ? `${path}.${key}` : key);
    }
  }
  if (typeOf(value) === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => checkJsonSchema(schema.items as JSONSchema, v, `${where}[${i}]`));
  }
  return value;
}
