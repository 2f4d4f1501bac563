import type { Agent } from '../agent.ts';
import type { AgentHandoff } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import type { SessionHost } from './host.ts';

/** A handoff is recorded as an item in the history (announced) and in the new agent's own context. */
export function recordHandoff(session: SessionHost, newAgent: Agent, oldAgentId: string | undefined): void {
  const item: AgentHandoff = { type: 'agent_handoff', id: shortId('item_'), oldAgentId, newAgentId: newAgent.id, createdAt: Date.now() };
  newAgent.chatCtx.insert(item);
  session._addToHistory(item, true);
}
