import type { Agent } from '../agent.ts';

/**
 * Agents waiting for a handoff. The session machine's context holds only their keys (it must survive JSON); the
 * objects wait here until the machine's handoff asks for one.
 */
export class PendingAgents {
  private readonly byKey = new Map<string, Agent>();
  private count = 0;

  add(agent: Agent): string {
    const key = `agent_${++this.count}`;
    this.byKey.set(key, agent);
    return key;
  }

  /** The Agent behind a key; agents queued before it (replaced before their handoff ran) are forgotten. */
  take(key: string): Agent {
    const agent = this.byKey.get(key);
    if (!agent) throw new Error(`no agent waits under ${key}`);
    for (const k of [...this.byKey.keys()]) {
      this.byKey.delete(k);
      if (k === key) break;
    }
    return agent;
  }
}
