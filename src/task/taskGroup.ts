import { lastValueFrom, reduce } from 'rxjs';
import { ChatContext, createMessage, textContent, type ChatItem, type ChatMessage } from '../llm/chatContext.ts';
import { functionTool, type FunctionTool } from '../llm/tools.ts';
import { AgentTask } from './agentTask.ts';

export interface TaskGroupEntry {
  /** The key of this task's result, and what `return_to_task` names it by. */
  id: string;
  /** Makes the task (a task runs once: going back to it runs a new one). */
  task: () => AgentTask<unknown>;
  /** What the task collects, offered to the model when the user wants to go back to it. */
  description: string;
}

export interface TaskGroupOptions {
  tasks: TaskGroupEntry[];
  /**
   * What the group gives back to its caller's context: by default every message of its tasks; `true`: one
   * summary the LLM writes of them; a function: the summary it returns.
   */
  summarizeChatCtx?: boolean | ((messages: ChatMessage[]) => string | Promise<string>);
  id?: string;
  instructions?: string;
  chatCtx?: ChatContext;
}

/** A task's await rejects with this when the user asked to go back to an earlier task of its group. */
export class ReturnToTask extends Error {
  override name = 'ReturnToTask';
  constructor(readonly taskId: string) {
    super(`the user went back to task ${taskId}`);
  }
}

const SUMMARY_PROMPT = 'Summarize the conversation below in a few sentences: keep every fact the user gave.';

/**
 * Runs tasks in order and comes back with a record of their results by id. While a task runs, its model is
 * offered `return_to_task(task_id)`: the user wants to change something an earlier task collected. That task
 * runs again (its result replaced) and the group goes on in order from there.
 */
export class TaskGroup<R extends Record<string, unknown> = Record<string, unknown>> extends AgentTask<R> {
  private readonly entries: TaskGroupEntry[];
  private readonly summarize: TaskGroupOptions['summarizeChatCtx'];

  constructor(opts: TaskGroupOptions) {
    super({ id: opts.id ?? 'task_group', instructions: opts.instructions ?? 'Run the tasks of this group in order.', chatCtx: opts.chatCtx });
    if (!Array.isArray(opts?.tasks) || opts.tasks.length === 0) throw new TypeError('TaskGroup needs at least one task');
    const ids = opts.tasks.map((t) => t.id);
    if (new Set(ids).size !== ids.length) throw new TypeError(`TaskGroup task ids must be unique: ${ids.join(', ')}`);
    this.entries = opts.tasks;
    this.summarize = opts.summarizeChatCtx;
  }

  override async onEnter(): Promise<void> {
    const before = new Set(this.chatCtx.items.map((i) => i.id));
    const results: Record<string, unknown> = {};
    try {
      for (let i = 0; i < this.entries.length; ) {
        const entry = this.entries[i]!;
        const task = entry.task();
        if (!(task instanceof AgentTask)) throw new TypeError(`TaskGroup task ${entry.id} must make an AgentTask`);
        const earlier = this.entries.slice(0, i);
        if (earlier.length) task.tools.push(returnTool(task, earlier));
        try {
          results[entry.id] = await task;
          i++;
        } catch (e) {
          if (!(e instanceof ReturnToTask)) throw e;
          i = this.entries.findIndex((t) => t.id === e.taskId);
        }
      }
      if (this.summarize) await this.summarizeNewItems(before);
      this.complete(results as R);
    } catch (e) {
      this.complete(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Replaces what the tasks said with one summary message: the caller's context gets that only. */
  private async summarizeNewItems(before: Set<string>): Promise<void> {
    const added = this.chatCtx.items.filter((i) => !before.has(i.id));
    const messages = added.filter((i): i is ChatMessage => i.type === 'message' && (i.role === 'user' || i.role === 'assistant'));
    const summary = typeof this.summarize === 'function' ? await this.summarize(messages) : await this.llmSummary(messages);
    const isAdded = (i: ChatItem) => !before.has(i.id);
    this.chatCtx.items.splice(0, this.chatCtx.items.length, ...this.chatCtx.items.filter((i) => !isAdded(i)));
    this.chatCtx.insert(createMessage('assistant', summary, { createdAt: Date.now() }));
  }

  private async llmSummary(messages: ChatMessage[]): Promise<string> {
    const llm = this.llm ?? this.session.llm;
    if (!llm) throw new Error('TaskGroup summarizeChatCtx: true needs an LLM');
    const transcript = messages.map((m) => `${m.role}: ${textContent(m)}`).join('\n');
    const ctx = new ChatContext([createMessage('system', SUMMARY_PROMPT), createMessage('user', transcript)]);
    const chunks = llm.chat({ chatCtx: ctx, tools: [], toolChoice: 'none' });
    return (await lastValueFrom(chunks.pipe(reduce((text, c) => text + (c.delta?.content ?? ''), '')))).trim();
  }
}

/** The tool a group's running task gets: going back to an earlier task ends this one. */
function returnTool(task: AgentTask<unknown>, earlier: TaskGroupEntry[]): FunctionTool {
  return functionTool({
    name: 'return_to_task',
    description:
      'The user wants to change something an earlier step collected. Call with the id of that step: ' +
      earlier.map((t) => `${t.id} (${t.description})`).join('; '),
    parameters: {
      type: 'object',
      properties: { task_id: { type: 'string', enum: earlier.map((t) => t.id) } },
      required: ['task_id'],
    },
    execute: ({ task_id }: { task_id: string }) => {
      task.complete(new ReturnToTask(task_id));
    },
  });
}
