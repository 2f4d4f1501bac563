/** The events of a run (`session.run()`), and how a failure message shows them. */
import type { Agent } from '../agent.ts';
import type { AgentHandoff, ChatMessage, FunctionCall, FunctionCallOutput } from '../llm/chatContext.ts';
export interface ChatMessageEvent {
  type: 'message';
  item: ChatMessage;
}
export interface FunctionCallEvent {
  type: 'function_call';
  item: FunctionCall;
}
export interface FunctionCallOutputEvent {
  type: 'function_call_output';
  item: FunctionCallOutput;
}
export interface AgentHandoffEvent {
  type: 'agent_handoff';
  item: AgentHandoff;
  /** The agent that was current before the handoff (null for the first agent of a session). */
  oldAgent: Agent | null;
  newAgent: Agent;
}

/** One thing that happened in a run (the user's input itself is not one: it is `RunResult.userInput`). */
export type RunEvent = ChatMessageEvent | FunctionCallEvent | FunctionCallOutputEvent | AgentHandoffEvent;
export type RunEventType = RunEvent['type'];

const MAX_TEXT = 160;

function quote(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ⏎ ');
  return JSON.stringify(oneLine.length > MAX_TEXT ? `${oneLine.slice(0, MAX_TEXT - 1)}…` : oneLine);
}

/** One line per event, for failure messages: what it is and what it says. */
export function describeEvent(e: RunEvent): string {
  switch (e.type) {
    case 'message':
      return `message ${e.item.role}: ${quote(e.item.content.join('\n'))}${e.item.interrupted ? ' [interrupted]' : ''}`;
    case 'function_call':
      return `function_call ${e.item.name}(${e.item.arguments})`;
    case 'function_call_output':
      return `function_call_output ${e.item.name}: ${quote(e.item.output)}${e.item.isError ? ' [error]' : ''}`;
    case 'agent_handoff':
      return `agent_handoff ${e.oldAgent ? agentName(e.oldAgent) : '(none)'} -> ${agentName(e.newAgent)}`;
  }
}

const agentName = (a: Agent) => `${a.constructor.name}(${a.id})`;

/** The numbered event list, `>>>` marking the event a failure is about. */
export function formatEvents(events: readonly RunEvent[], marked?: number): string {
  if (events.length === 0) return '    (no events: the agent did nothing in this run)';
  return events.map((e, i) => `${i === marked ? '>>>' : '   '} [${i}] ${describeEvent(e)}`).join('\n');
}
