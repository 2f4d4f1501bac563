import type { CurrentSpeechFacts } from '../../machines/activity.ts';
import type { EndOfTurnInfo } from '../../machines/userTurn.ts';
import { Agent } from '../agent.ts';
import { createMessage, type ChatMessage } from '../llm/chatContext.ts';
import { StopResponse } from '../llm/tools.ts';
import type { ActivityHost, GenerateReplyOptions } from './host.ts';
import type { SpeechHandle } from './speechHandle.ts';
import { inSpeechScope } from './speechContext.ts';
import { countWords } from './words.ts';

/** The activity as the user-turn pipeline needs it. */
export interface TurnTarget extends ActivityHost {
  facts(): CurrentSpeechFacts | null;
  backgroundSpeeches(except?: SpeechHandle): SpeechHandle[];
  generateReply(opts: GenerateReplyOptions): SpeechHandle;
  acceptsSpeech(): boolean;
  readonly preemptive: { take(message: ChatMessage, items: readonly unknown[]): SpeechHandle | null; cancel(): void; resetAttempts(): void };
}

const joinTurns = (a: EndOfTurnInfo, b: EndOfTurnInfo): EndOfTurnInfo => ({
  ...b,
  transcript: `${a.transcript} ${b.transcript}`.trim(),
  speechStartedAt: a.speechStartedAt ?? b.speechStartedAt,
});

/**
 * A committed user turn, from the commit to its reply: background speeches with pending tools are interrupted, the
 * current speech is interrupted, `onUserTurnCompleted` runs, then the reply is scheduled (the preemptive one when it
 * still fits). Turns are answered in order. A turn the activity cannot answer because it is handing over (fenced)
 * is kept whole for the next activity, so no user turn is ever lost.
 */
export class UserTurnPipeline {
  /** A user turn that ended while this activity was fenced (handoff/drain): handed to the next activity. */
  fencedTurn: EndOfTurnInfo | null = null;
  private chain: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(private readonly act: TurnTarget) {}

  /** Resolves when every accepted turn has been handled (replied to, or fenced). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** What the user said that no turn has committed yet (carried over to the next agent at a handoff). */
  pendingTranscript(): { transcript: string; speechStartedAt: number | null; lastSpeakingAt: number | null; lastFinalAt: number | null } | null {
    const c = this.act.userTurn.getSnapshot().context;
    if (!c.transcript.trim()) return null;
    return { transcript: c.transcript, speechStartedAt: c.speechStartedAt, lastSpeakingAt: c.lastSpeakingAt, lastFinalAt: c.lastFinalAt };
  }

  onEndOfTurn(info: EndOfTurnInfo): void {
    const act = this.act;
    if (act.closed) return;
    const snap = act.actor.getSnapshot();
    if (!snap.context.acceptingTurns) {
      // Handoff or drain in progress: the old agent must not answer. The next agent will (see `takeOver`).
      act.userTurn.send({ type: 'TURN_ACCEPTED' });
      this.fence(info);
      return;
    }
    // The machine accepts the turn (`accept`), drops a backchannel (`drop`) or holds it (`hold`).
    act.actor.send({ type: 'END_OF_TURN', words: countWords(info.transcript), transcript: info.transcript, current: act.facts(), info });
  }

  /** The rules of the agent's state hold the turn (too few words, AEC warm-up): the transcript keeps accumulating. */
  hold(): void {
    this.act.preemptive.cancel();
  }

  /** The activity machine accepted the committed turn: it is answered, in order. */
  accept(info: EndOfTurnInfo): void {
    this.act.userTurn.send({ type: 'TURN_ACCEPTED' });
    this.enqueue(info);
  }

  /** Only backchannel while the agent spoke ("mhm"): not a turn, so neither answered nor kept in the history. */
  drop(): void {
    this.act.preemptive.cancel();
    this.act.userTurn.send({ type: 'TURN_ACCEPTED' });
  }

  /** Answers a user turn that the previous activity could not take because it was handing over. */
  takeOver(info: EndOfTurnInfo): void {
    this.enqueue(info);
  }

  /** The activity stopped taking turns (handoff or drain): a turn not yet answered belongs to what comes next. */
  private fenced(): boolean {
    return !this.act.actor.getSnapshot().context.acceptingTurns || !this.act.acceptsSpeech();
  }

  /** Nothing comes next (the session closes): a fenced turn is still recorded as said, unanswered. */
  recordFencedAsUnanswered(): void {
    const info = this.fencedTurn;
    this.fencedTurn = null;
    if (info) addUnanswered(this.act, createMessage('user', info.transcript, { transcriptConfidence: info.confidence }));
  }

  /** The session closes before these words were committed as a turn: they are kept, unanswered. */
  recordPendingAsUnanswered(transcript: string): void {
    addUnanswered(this.act, createMessage('user', transcript.trim()));
  }

  private fence(info: EndOfTurnInfo): void {
    this.fencedTurn = this.fencedTurn ? joinTurns(this.fencedTurn, info) : info;
  }

  private enqueue(info: EndOfTurnInfo): void {
    const seq = ++this.seq;
    this.chain = this.chain.then(() => this.act.track(this.completed(info, seq)));
  }

  private async completed(info: EndOfTurnInfo, seq: number): Promise<void> {
    const act = this.act;
    act.preemptive.resetAttempts();
    const background = act.backgroundSpeeches().filter((h) => h.allowInterruptions);
    if (background.length) {
      for (const h of background) h.interrupt();
      await Promise.all(background.map((h) => h.waitForPlayout()));
    }

    const metrics: Record<string, number> = {};
    if (info.speechStartedAt !== null && info.lastSpeakingAt !== null && info.lastSpeakingAt >= info.speechStartedAt) {
      metrics.startedSpeakingAt = info.speechStartedAt;
      metrics.stoppedSpeakingAt = info.lastSpeakingAt;
      metrics.transcriptionDelay = info.lastFinalAt !== null ? Math.max(info.lastFinalAt - info.lastSpeakingAt, 0) : 0;
      metrics.endOfTurnDelay = Math.max(info.committedAt - info.lastSpeakingAt, 0);
    }
    // Built after background speeches settled, so it sorts after their tool outputs.
    const message = createMessage('user', info.transcript, { transcriptConfidence: info.confidence, metrics });
    act.session._onUserTurnMessage?.(message);

    const current = act.facts();
    const currentHandle = current ? act.handles.get(current.id) : undefined;
    if (currentHandle && !currentHandle.done()) {
      if (!currentHandle.allowInterruptions) {
        act.preemptive.cancel();
        addUnanswered(act, message); // an uninterruptible speech is playing: this turn gets no reply
        return;
      }
      currentHandle.interrupt();
      await currentHandle.waitForPlayout();
    }
    if (this.fenced()) return this.fence(info);

    const turnCtx = act.agent.chatCtx.copy();
    const t0 = Date.now();
    try {
      // The base class's hook does nothing: skip the async-context hop on the hot path.
      if (act.agent.onUserTurnCompleted !== Agent.prototype.onUserTurnCompleted) {
        await inSpeechScope({ activity: act, handle: null, inTool: false }, () => act.agent.onUserTurnCompleted(turnCtx, message));
      }
    } catch (e) {
      act.preemptive.cancel();
      if (!(e instanceof StopResponse)) act.session._reportError('session', `${act.agent.id}.onUserTurnCompleted`, e, true);
      addUnanswered(act, message);
      return;
    }
    const hookDelay = Date.now() - t0;
    // The hook may have run while a handoff began: the turn goes to the next agent, whole.
    if (this.fenced()) {
      act.preemptive.cancel();
      return this.fence(info);
    }

    let handle = act.preemptive.take(message, turnCtx.items);
    if (handle) act.scheduleSpeech(handle);
    else {
      act.preemptive.cancel();
      handle = act.generateReply({ userMessage: message, chatCtx: turnCtx, userInitiated: false });
    }
    if (seq !== this.seq) handle.interrupt({ force: true }); // a newer turn already began

    act.session._emit({
      type: 'metrics_collected',
      metrics: {
        type: 'eou_metrics',
        timestamp: Date.now(),
        endOfUtteranceDelayMs: metrics.endOfTurnDelay ?? 0,
        transcriptionDelayMs: metrics.transcriptionDelay ?? 0,
        onUserTurnCompletedDelayMs: hookDelay,
        speechId: handle.id,
      },
    });
  }
}

/** A user turn that gets no reply still belongs in the agent's context and the history. */
function addUnanswered(act: ActivityHost, msg: ChatMessage): void {
  if (!msg.content.join('').trim()) return;
  act.agent.chatCtx.insert(msg);
  act.session._addToHistory(msg, true);
}
