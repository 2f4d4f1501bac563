import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Agent, type ModelSettings, type NodeStream } from '../src/index.ts';
import { nodeDefaults } from '../src/agentNodes.ts';
import { startHarness, useVirtualTime } from './helpers/harness.ts';

// Node 20 runs its async hooks on every promise of the process while an AsyncLocalStorage is enabled, and a storage
// once run stays enabled until disabled: the pipeline must not switch it on for agents that override no node, and
// must switch it off again once an override's call is over.
beforeEach(useVirtualTime);
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const ask = [{ start: 0, end: 500, transcript: 'Hi' }];
const llm = [{ input: 'Hi', content: 'Hello there.', ttft: 100, duration: 200 }];

describe('the pipeline defaults async context', () => {
  it('is never entered for an agent that overrides no node (its reply is still spoken)', async () => {
    const run = vi.spyOn(nodeDefaults, 'run');
    const h = await startHarness({ utterances: ask, llm, agent: new Agent({ instructions: 'test' }) });
    await h.at(5000);
    expect(h.tts.inputs.length).toBeGreaterThan(0);
    expect(run).not.toHaveBeenCalled();
    await h.session.close();
  });

  it('reaches an override that calls the default after an await, and is switched off once the call is over', async () => {
    const run = vi.spyOn(nodeDefaults, 'run');
    const disable = vi.spyOn(nodeDefaults, 'disable');
    class Slow extends Agent {
      constructor() {
        super({ instructions: 'test' });
      }
      override async ttsNode(text$: NodeStream<string>, s: ModelSettings) {
        await new Promise((r) => setTimeout(r, 10));
        return super.ttsNode(text$, s);
      }
    }
    const h = await startHarness({ utterances: ask, llm, agent: new Slow() });
    await h.at(5000);
    expect(h.tts.inputs.length).toBeGreaterThan(0);
    expect(h.session.history.messages().filter((m) => m.role === 'assistant')).toHaveLength(1);
    expect(run).toHaveBeenCalled();
    expect(disable).toHaveBeenCalled();
    expect(nodeDefaults.getStore()).toBeUndefined();
    await h.session.close();
  });
});
