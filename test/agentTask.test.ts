import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { Agent, functionTool } from '../src/index.ts';
import { AgentTask } from '../src/task/agentTask.ts';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

class CollectEmail extends AgentTask<string> {
  constructor() {
    super({
      instructions: 'collect the email',
      tools: [
        functionTool({
          name: 'record_email',
          description: 'records the email',
          parameters: z.object({ email: z.string() }),
          execute: ({ email }) => {
            this.complete(email);
          },
        }),
      ],
    });
  }
  override onEnter() {
    this.session.say('What is your email?');
  }
}

describe('AgentTask', () => {
  it('a tool awaits a task: the task takes the conversation, its typed result returns to the tool', async () => {
    const results: string[] = [];
    const register = functionTool({
      name: 'register',
      description: 'registers the user',
      execute: async () => {
        const email = await new CollectEmail();
        results.push(email);
        return `registered ${email}`;
      },
    });
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'sign me up' }, { start: 4000, end: 5000, transcript: 'it is a@b.c' }],
      llm: [
        { input: 'sign me up', content: 'Sure.', toolCalls: [{ name: 'register', arguments: {} }] },
        { input: 'it is a@b.c', toolCalls: [{ name: 'record_email', arguments: { email: 'a@b.c' } }] },
        { input: 'registered a@b.c', content: 'You are registered.' },
      ],
      session: { tools: [register] },
    });
    await h.at(12000);
    expect(results).toEqual(['a@b.c']);
    console.log(historyText(h.session));
    expect(h.session.currentAgent).toBe(h.agent);
    await h.session.close();
  });
});
