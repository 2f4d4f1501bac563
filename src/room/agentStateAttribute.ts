import type { Room } from '@livekit/rtc-node';

export const ATTR_AGENT_STATE = 'lk.agent.state';

/**
 * Publishes the agent's state as the `lk.agent.state` attribute of its participant. Updates go out one at a time and
 * only the newest pending value is sent (a burst of changes ends on the last state, never an older one).
 */
export class AgentStateAttribute {
  private pending: string | null = null;
  private running: Promise<void> | null = null;
  private last: string | null = null;

  constructor(
    private readonly room: Room,
    private readonly onError: (e: Error) => void,
  ) {}

  set(state: string): void {
    this.pending = state;
    this.running ??= this.drain().finally(() => (this.running = null));
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.pending !== null) {
      const state = this.pending;
      this.pending = null;
      const lp = this.room.localParticipant;
      if (!lp || !this.room.isConnected || state === this.last) continue;
      try {
        await lp.setAttributes({ [ATTR_AGENT_STATE]: state });
        this.last = state;
      } catch (e) {
        this.onError(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}
