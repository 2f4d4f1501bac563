import { z } from 'zod';
import type { ChatContext } from './chatContext.ts';

export type { Tool, Toolset } from './toolset.ts';

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
   * Speaks `message` while the tool keeps running (an interim update such as "found it, booking now"); it is
   * recorded in the history as an assistant message. The returned handle plays apart from the calling speech.
   */
  update(message: string): { waitForPlayout(): Promise<void>; readonly id: string } & Record<string, any>;
  /**
   * Aborted when the speech that called the tool is interrupted or the session closes. A tool that does not stop
   * is not waited for: its call gets a "cancelled" error output at once, and whatever it returns later is dropped.
   */
  readonly abortSignal: AbortSignal;
}

/**
 * A tool's flags. `not_in_on_enter`: not offered to replies generated inside `onEnter` (nor to their tool steps),
 * e.g. a tool that ends the call, which must not fire while the agent greets.
 */
export type ToolFlag = 'not_in_on_enter';

/**
 * Spoken while a slow tool runs: once the calling step's audio has ended and the tool has still not returned
 * `after` ms later, the agent says `text`, or generates a line (`generate`: instructions for that reply, or true).
 */
export interface ToolFiller {
  after: number;
  text?: string;
  generate?: string | true;
}

export interface FunctionTool<Args = any, UserData = any> extends ToolDefinition {
  readonly kind: 'function';
  readonly flags?: readonly ToolFlag[];
  readonly filler?: ToolFiller | null;
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
  flags?: readonly ToolFlag[];
  /** false: same as the `not_in_on_enter` flag. */
  offerDuringOnEnter?: boolean;
  filler?: ToolFiller;
}

const TOOL_FLAGS: readonly ToolFlag[] = ['not_in_on_enter'];

function checkFiller(name: string, f: ToolFiller | undefined): ToolFiller | null {
  if (f === undefined) return null;
  if (!f || typeof f !== 'object' || !Number.isFinite(f.after) || f.after < 0) {
    throw new TypeError(`tool ${name}: filler needs \`after\` (ms, >= 0)`);
  }
  if ((typeof f.text !== 'string' || !f.text.trim()) && f.generate === undefined) {
    throw new TypeError(`tool ${name}: filler needs \`text\` or \`generate\``);
  }
  return { ...f };
}

function toolFlags(opts: { name: string; flags?: readonly ToolFlag[]; offerDuringOnEnter?: boolean }): ToolFlag[] {
  const flags = new Set<ToolFlag>();
  for (const f of opts.flags ?? []) {
    if (!TOOL_FLAGS.includes(f)) throw new TypeError(`tool ${opts.name}: unknown flag ${JSON.stringify(f)} (known: ${TOOL_FLAGS.join(', ')})`);
    flags.add(f);
  }
  if (opts.offerDuringOnEnter === false) flags.add('not_in_on_enter');
  return [...flags];
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
    flags: toolFlags(opts),
    filler: checkFiller(opts.name, opts.filler),
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
