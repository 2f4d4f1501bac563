import type { FunctionTool, ToolFlag } from './tools.ts';

/**
 * A named group of tools (say, everything about billing), given to a session or an agent like a tool. The LLM sees
 * its tools flattened; `agent.updateTools()` adds or removes a toolset as a unit.
 */
export interface Toolset {
  readonly kind: 'toolset';
  readonly name: string;
  readonly tools: readonly FunctionTool[];
}

/** What a session or an agent takes as tools. */
export type Tool = FunctionTool | Toolset;

export function toolset(opts: { name: string; tools: readonly FunctionTool[] }): Toolset {
  if (typeof opts?.name !== 'string' || !opts.name) throw new TypeError('toolset() needs a `name`');
  if (!Array.isArray(opts.tools)) throw new TypeError(`toolset ${opts.name}: \`tools\` must be an array of tools`);
  for (const t of opts.tools) {
    if ((t as { kind?: string })?.kind !== 'function') throw new TypeError(`toolset ${opts.name}: only function tools can be grouped (no nested toolsets)`);
  }
  return { kind: 'toolset', name: opts.name, tools: [...opts.tools] };
}

/** The function tools of a tool list, toolsets expanded in place; a name given twice is an error (the model could not tell them apart). */
export function flattenTools(list: readonly Tool[], owner: string): FunctionTool[] {
  const out: FunctionTool[] = [];
  const names = new Set<string>();
  for (const t of list) {
    const group = t.kind === 'toolset' ? t.tools : t.kind === 'function' ? [t] : null;
    if (!group) throw new TypeError(`${owner}: ${JSON.stringify((t as { name?: string })?.name ?? t)} is neither a function tool nor a toolset`);
    for (const f of group) {
      if (names.has(f.name)) throw new Error(`duplicate tool name ${JSON.stringify(f.name)} for ${owner}`);
      names.add(f.name);
      out.push(f);
    }
  }
  return out;
}

/** The plain-data view of tools the activity statechart holds (names and flags decide what is offered). */
export interface ToolEntry {
  name: string;
  flags: ToolFlag[];
}

export const toolEntries = (tools: readonly FunctionTool[]): ToolEntry[] => tools.map((t) => ({ name: t.name, flags: [...(t.flags ?? [])] }));
