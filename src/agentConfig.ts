import { createMessage, type AgentConfigUpdate, type ChatContext, type ChatItem } from './llm/chatContext.ts';
import { shortId } from './llm/ids.ts';
import type { FunctionTool } from './llm/tools.ts';
import { flattenTools, toolEntries, type Tool, type ToolEntry } from './llm/toolset.ts';

/**
 * Live updates of an agent's instructions, tools and context. While the agent runs, each update is written to its
 * context and the session history as an `agent_config_update` item, and the activity takes it for the next LLM call.
 */

/** Id of the system message that holds the agent's instructions in its context. */
export const INSTRUCTIONS_ID = 'instructions';

/** What an update needs of the running activity (kept loose: the activity lives in src/session). */
export interface AgentActivityLink {
  tools: FunctionTool[];
  readonly actor: { send(e: { type: 'TOOLS_CHANGED'; tools: ToolEntry[] }): void };
  readonly session: { readonly tools: readonly Tool[]; _addToHistory(item: ChatItem, announce: boolean): void };
}

interface Updatable {
  readonly id: string;
  instructions: string;
  tools: Tool[];
  readonly chatCtx: ChatContext;
  _activity: AgentActivityLink | null;
}

/** The instructions message at the head of the agent's context (replacing an older one). */
export function placeInstructions(ctx: ChatContext, instructions: string): void {
  const at = ctx.items.findIndex((i) => i.id === INSTRUCTIONS_ID);
  const msg = createMessage('system', instructions, { id: INSTRUCTIONS_ID, createdAt: 0 });
  if (at === -1) ctx.items.unshift(msg);
  else ctx.items[at] = msg;
}

/** A reply's own copy of the context follows the agent's current instructions (a tool step after an update). */
export function refreshInstructions(replyCtx: ChatContext, agentCtx: ChatContext): void {
  const current = agentCtx.getById(INSTRUCTIONS_ID);
  const at = replyCtx.indexById(INSTRUCTIONS_ID);
  if (current && at !== -1) replyCtx.items[at] = current;
}

function record(agent: Updatable, fields: Omit<AgentConfigUpdate, 'type' | 'id' | 'createdAt'>): void {
  const act = agent._activity;
  if (!act) return;
  const item: AgentConfigUpdate = { type: 'agent_config_update', id: shortId('item_'), ...fields, createdAt: Date.now() };
  agent.chatCtx.insert(item);
  act.session._addToHistory(item, false);
}

export function updateInstructions(agent: Updatable, instructions: string): void {
  if (typeof instructions !== 'string') throw new TypeError('updateInstructions() needs a string');
  agent.instructions = instructions;
  if (!agent._activity) return;
  placeInstructions(agent.chatCtx, instructions);
  record(agent, { instructions });
}

/** Replaces the agent's tools (toolsets as units); duplicates, against the session's tools too, are an error. */
export function updateTools(agent: Updatable, tools: readonly Tool[]): void {
  if (!Array.isArray(tools)) throw new TypeError('updateTools() needs an array of tools and toolsets');
  const owner = `agent ${agent.id}`;
  const before = new Set(flattenTools(agent.tools, owner).map((t) => t.name));
  const after = flattenTools(tools, owner);
  const act = agent._activity;
  const all = act ? flattenTools([...act.session.tools, ...tools], owner) : after;
  agent.tools = [...tools];
  if (!act) return;
  act.tools = all;
  act.actor.send({ type: 'TOOLS_CHANGED', tools: toolEntries(all) });
  const names = new Set(after.map((t) => t.name));
  record(agent, {
    toolsAdded: [...names].filter((n) => !before.has(n)),
    toolsRemoved: [...before].filter((n) => !names.has(n)),
  });
}

/** Replaces the agent's context with `ctx`'s items; a running agent keeps its instructions at the head. */
export function updateChatCtx(agent: Updatable, ctx: ChatContext): void {
  if (!ctx || !Array.isArray(ctx.items)) throw new TypeError('updateChatCtx() needs a ChatContext');
  const items = ctx.items.filter((i) => !agent._activity || i.id !== INSTRUCTIONS_ID);
  agent.chatCtx.items.splice(0, agent.chatCtx.items.length, ...items);
  if (agent._activity) placeInstructions(agent.chatCtx, agent.instructions);
}
