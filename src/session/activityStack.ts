import type { Agent } from '../agent.ts';
import { AgentActivity } from './agentActivity.ts';
import { recordHandoff } from './handoffRecord.ts';
import type { SessionHost } from './host.ts';

/** What the user said that no turn committed yet (it goes on as a turn of the activity that comes next). */
export type Carried = ReturnType<AgentActivity['turns']['pendingTranscript']>;

/**
 * The session's agent activities: the one that has the conversation (`current`, the top), the callers paused
 * under it while AgentTasks run (`paused`, outermost first), and the one being started by a handoff (`next`).
 * The session machine decides when each switch happens (its `handoff`, `startTask`, `endTask` actors); this class
 * carries the switches out: draining, closing, starting, and carrying the user's unfinished turn across.
 */
export class ActivityStack {
  current: AgentActivity | null = null;
  next: AgentActivity | null = null;
  agent: Agent | null = null;
  /** Callers of running tasks, outermost first (each paused while the activity above it runs). */
  readonly paused: AgentActivity[] = [];

  constructor(private readonly session: SessionHost) {}

  async start(agent: Agent): Promise<void> {
    const act = new AgentActivity(agent, this.session);
    this.current = act;
    this.agent = agent;
    this.recordHandoff(act, undefined);
    await act.start();
  }

  /** The handoff item goes to the history and to the new agent's own context. */
  recordHandoff(act: AgentActivity, oldAgentId: string | undefined): void {
    recordHandoff(this.session, act.agent, oldAgentId);
  }

  async handoff(agent: Agent): Promise<void> {
    const old = this.current;
    const next = new AgentActivity(agent, this.session);
    this.next = next;
    let carried: Carried = null;
    if (old) {
      await old.drain();
      carried = old.turns.pendingTranscript();
      await old.close();
    }
    this.current = next;
    this.next = null;
    this.agent = agent;
    this.recordHandoff(next, old?.agent.id);
    await next.start();
    if (old?.fencedTurn) next.turns.takeOver(old.fencedTurn);
    // What the user said to the old agent but had not finished goes on as the new agent's turn.
    if (carried) next.userTurn.send({ type: 'CARRY_OVER', ...carried, at: Date.now() });
  }

  /**
   * Moves the conversation from `from` to `to`: the user's unfinished words and a turn `from` could not take go
   * with it, the audio input follows, and the session's agent and user states are `to`'s from now on.
   */
  moveConversation(from: AgentActivity, to: AgentActivity, carriedBeforeClose?: Carried): void {
    const carried = carriedBeforeClose !== undefined ? carriedBeforeClose : from.closed ? null : from.turns.pendingTranscript();
    const fenced = from.turns.fencedTurn;
    from.turns.fencedTurn = null;
    from.detachAudio();
    if (!from.closed) {
      if (carried) from.userTurn.send({ type: 'CLEAR_TURN' });
      // The input left `from`: speech it heard begin will not be heard ending there (it would hold the floor).
      const now = Date.now();
      if (from.userTurn.getSnapshot().matches({ user: 'speaking' })) from.userTurn.send({ type: 'VAD_SPEECH_END', at: now, now });
      if (from.actor.getSnapshot().matches({ floor: 'user' })) from.actor.send({ type: 'USER_SPEECH_END' });
    }
    const audio = this.session.input.audio;
    if (audio && !to.closed) to.attachAudio(audio);
    if (fenced) to.turns.takeOver(fenced);
    if (carried) to.userTurn.send({ type: 'CARRY_OVER', ...carried, at: Date.now() });
    this.syncStates(to);
  }

  /** The session's agent and user states are `act`'s from now on. */
  syncStates(act: AgentActivity): void {
    this.session._onAgentState(act, act.actor.getSnapshot().value.agent as string);
    this.session._onUserState(act, act.userTurn.getSnapshot().value.user as never);
  }

  /** Closes every activity, the top first; resolves whatever happens (failures are reported). */
  async close(drain: boolean, tasks: { closeInnermost(): Promise<void> }): Promise<void> {
    // Tasks first, innermost first: their awaits reject, their callers resume (and the last is closed below).
    while (this.paused.length) await tasks.closeInnermost();
    const act = this.current;
    const next = this.next;
    try {
      if (act) {
        if (!drain) await act.interrupt({ force: true }).catch(() => undefined);
        await act.drain();
        // Words heard but not committed yet (the endpointing delay still running) end with the session, unanswered.
        const pending = next ? null : act.turns.pendingTranscript();
        await act.close();
        // A turn fenced by this close has no next agent to answer it; it still happened.
        if (!next) act.turns.recordFencedAsUnanswered();
        if (pending) act.turns.recordPendingAsUnanswered(pending.transcript);
      }
      await next?.close();
    } finally {
      this.current = null;
      this.next = null;
    }
  }
}
