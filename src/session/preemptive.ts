import { createMessage, type ChatMessage } from '../llm/chatContext.ts';
import type { FunctionTool } from '../llm/tools.ts';
import type { ActivityHost, GenerateReplyOptions } from './host.ts';
import type { SpeechHandle } from './speechHandle.ts';
import { transcriptsEquivalent } from './words.ts';

interface Speculation {
  handle: SpeechHandle;
  transcript: string;
  userMessage: ChatMessage;
  ctxItems: readonly unknown[];
  tools: readonly FunctionTool[];
}

/** The activity as preemptive generation needs it. */
export interface PreemptiveTarget extends ActivityHost {
  facts(): { interrupted: boolean } | null;
  generateReply(opts: GenerateReplyOptions): SpeechHandle;
}

/** How long the user has spoken in this turn: from its first speech to now, or to its last speech if silent. */
function spokenMs(turn: { speaking: boolean; speechStartedAt: number | null; lastSpeakingAt: number | null }, now: number): number {
  if (turn.speechStartedAt === null) return 0;
  return (turn.speaking ? now : (turn.lastSpeakingAt ?? now)) - turn.speechStartedAt;
}

/** Attempts per user turn: a transcript that keeps changing stops being speculated on. */
const MAX_ATTEMPTS = 3;

/**
 * Preemptive generation: at each final transcript, before the turn commits, the reply is generated (never
 * scheduled, so never played); at the commit it is used if the transcript, context and tools are unchanged.
 * With `preemptiveTts` its first step's audio is synthesised too, and waits in a buffer for the commit.
 */
export class PreemptiveReplies {
  private current: Speculation | null = null;
  private attempts = 0;

  constructor(private readonly act: PreemptiveTarget) {}

  maybeStart(): void {
    const act = this.act;
    const o = act.options;
    if (!o.preemptiveGeneration || !act.llm) return;
    if (!act.actor.getSnapshot().context.acceptingTurns) return;
    const current = act.facts();
    if (current && !current.interrupted) return;
    if (this.attempts >= MAX_ATTEMPTS) return;
    // A final transcript that arrives after the turn committed finds nothing pending: no empty request.
    const turn = act.userTurn.getSnapshot().context;
    const transcript = turn.transcript;
    if (!transcript.trim()) return;
    // A long monologue is likely to go on: speculating on it would waste the LLM (and the TTS).
    if (spokenMs(turn, Date.now()) > o.preemptiveMaxSpeechDuration) return;
    if (this.current && this.current.transcript === transcript) return;
    this.cancel();
    this.attempts++;
    const userMessage = createMessage('user', transcript);
    const ctx = act.agent.chatCtx.copy();
    const prefetchTts = o.preemptiveTts && !!act.tts && !!act.session.output.audio;
    const handle = act.generateReply({ userMessage, chatCtx: ctx, schedule: false, userInitiated: false, prefetchTts });
    this.current = { handle, transcript, userMessage, ctxItems: [...ctx.items], tools: [...act.tools] };
  }

  /** At the commit: the speculative reply, if it still fits the turn; its user message takes the final details. */
  take(message: ChatMessage, turnItems: readonly unknown[]): SpeechHandle | null {
    this.attempts = 0;
    const p = this.current;
    const act = this.act;
    if (!p || p.handle.done() || p.handle.interrupted) return null;
    const sameCtx = p.ctxItems.length === turnItems.length && p.ctxItems.every((it, i) => it === turnItems[i]);
    const sameTools = p.tools.length === act.tools.length && p.tools.every((t, i) => t === act.tools[i]);
    if (!transcriptsEquivalent(p.transcript, message.content.join(' ')) || !sameCtx || !sameTools) return null;
    Object.assign(p.userMessage, {
      content: message.content,
      transcriptConfidence: message.transcriptConfidence,
      metrics: message.metrics,
      createdAt: message.createdAt,
    });
    this.current = null;
    return p.handle;
  }

  resetAttempts(): void {
    this.attempts = 0;
  }

  cancel(): void {
    const p = this.current;
    this.current = null;
    if (p && !p.handle.scheduled) {
      p.handle.interrupt({ force: true });
      p.handle._finish();
    }
  }
}
