import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { speechMachine, type ToolChoiceMode } from '../../machines/speech.ts';
import type { SpeechKind } from '../../machines/activity.ts';
import type { ChatItem } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import { speechScope } from './speechContext.ts';

export const SPEECH_PRIORITY_LOW = 0;
export const SPEECH_PRIORITY_NORMAL = 5;
export const SPEECH_PRIORITY_HIGH = 10;

type SpeechActor = Actor<typeof speechMachine>;
type SpeechSnapshot = ReturnType<SpeechActor['getSnapshot']>;

/**
 * XState ids for speech actors, reused per parent. A child that finishes sends its parent
 * `xstate.done.actor.<id>`, and XState caches transition candidates per event type on the parent's state nodes
 * for as long as its machine lives (the activity's: the whole session for one agent). A fresh id per speech grew
 * that cache by about 0.7 kB a turn; reusing the ids of finished speeches bounds it by the speeches alive at once.
 */
const slotsInUse = new WeakMap<object, Set<number>>();
const NO_PARENT = {};
function takeSlot(parent: object | undefined): { actorId: string; release(): void } {
  const key = parent ?? NO_PARENT;
  let used = slotsInUse.get(key);
  if (!used) slotsInUse.set(key, (used = new Set()));
  let slot = 0;
  while (used.has(slot)) slot++;
  used.add(slot);
  const set = used;
  return { actorId: `speech#${slot}`, release: () => void set.delete(slot) };
}

/** Resolves when `pred` holds for the actor's snapshot (checked now and on every change). */
function until(actor: SpeechActor, pred: (s: SpeechSnapshot) => boolean): Promise<SpeechSnapshot> {
  const now = actor.getSnapshot();
  if (pred(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const sub = actor.subscribe((s) => {
      if (pred(s)) {
        sub.unsubscribe();
        resolve(s);
      }
    });
  });
}

/**
 * A handle on one agent speech (a `say`, or a reply with its tool steps). Backed by a `speech` statechart actor.
 * Awaiting `waitForPlayout()` never throws; a generation error is available as `error`.
 */
export class SpeechHandle {
  readonly id: string;
  readonly actor: SpeechActor;
  readonly chatItems: ChatItem[] = [];
  error: Error | null = null;
  /** @internal the activity that owns it */
  _owner: unknown = null;
  /** Whether the application asked for it (say / generateReply), rather than the framework (a user turn's reply). */
  readonly userInitiated: boolean;
  readonly kind: SpeechKind;
  /** Made on first use: most speeches call no tool and never need one. */
  private abort: AbortController | null = null;

  constructor(opts: {
    allowInterruptions: boolean;
    priority?: number;
    parent?: AnyActorRef;
    kind?: SpeechKind;
    userInitiated?: boolean;
    maxToolSteps?: number;
    toolChoice?: ToolChoiceMode;
    inOnEnter?: boolean;
  }) {
    this.id = shortId('speech_');
    this.kind = opts.kind ?? 'reply';
    this.userInitiated = opts.userInitiated ?? false;
    // A child of the activity's actor: same actor system (cheaper, and inspected as one tree).
    const slot = takeSlot(opts.parent);
    this.actor = createActor(speechMachine, {
      id: slot.actorId,
      input: {
        id: this.id,
        priority: opts.priority ?? SPEECH_PRIORITY_NORMAL,
        allowInterruptions: opts.allowInterruptions,
        maxToolSteps: opts.maxToolSteps,
        toolChoice: opts.toolChoice,
        inOnEnter: opts.inOnEnter,
      },
      parent: opts.parent,
    });
    this.actor.subscribe({
      next: (s) => {
        // The tools of an interrupted speech are told to stop (a speech that just ends has no tools left running).
        if (s.context.interrupted && this.abort && !this.abort.signal.aborted) this.abort.abort(new SpeechInterruptedError(this.id));
      },
      complete: slot.release,
      error: slot.release,
    });
    this.actor.start();
  }

  /** Aborted when the speech is interrupted or ends: tools get it as `ctx.abortSignal`. */
  get abortSignal(): AbortSignal {
    if (!this.abort) {
      this.abort = new AbortController();
      if (this.interrupted) this.abort.abort(new SpeechInterruptedError(this.id));
    }
    return this.abort.signal;
  }

  private get ctx() {
    return this.actor.getSnapshot().context;
  }

  get priority(): number {
    return this.ctx.priority;
  }
  get interrupted(): boolean {
    return this.ctx.interrupted;
  }
  get numSteps(): number {
    return this.ctx.numSteps;
  }
  get allowInterruptions(): boolean {
    return this.ctx.allowInterruptions;
  }
  set allowInterruptions(value: boolean) {
    if (!value && this.interrupted) throw new Error('cannot disallow interruptions on an interrupted speech');
    this.actor.send({ type: 'SET_ALLOW_INTERRUPTIONS', value });
  }
  get scheduled(): boolean {
    return this.ctx.wasScheduled;
  }
  done(): boolean {
    return this.actor.getSnapshot().status === 'done';
  }

  /** Interrupts the speech. A no-op on a finished or already interrupted speech. */
  interrupt(opts: { force?: boolean } = {}): this {
    if (this.done() || this.interrupted) return this;
    if (!this.allowInterruptions && !opts.force) {
      throw new Error(`speech ${this.id} does not allow interruptions (pass { force: true } to override)`);
    }
    this.actor.send({ type: 'INTERRUPT', force: opts.force });
    return this;
  }

  /** Waits until the whole speech (all tool steps and the tool reply) is done. */
  async waitForPlayout(): Promise<void> {
    const scope = speechScope.getStore();
    if (scope?.inTool && scope.handle === this) {
      // The speech waits for this tool, so the tool cannot wait for the speech.
      throw new Error('waitForPlayout() of the speech that called this tool would never resolve: use ctx.waitForPlayout()');
    }
    await until(this.actor, (s) => s.status === 'done');
  }

  /** @internal */
  whenInterrupted(): Promise<void> {
    return until(this.actor, (s) => s.context.interrupted || s.status === 'done').then(() => undefined);
  }
  /** @internal resolves when this step is authorised to play (or the speech was interrupted / finished) */
  whenAuthorized(): Promise<void> {
    return until(this.actor, (s) => s.matches('authorized') || s.context.interrupted || s.status === 'done').then(() => undefined);
  }
  /** @internal resolves once scheduled (or interrupted / finished) */
  whenScheduled(): Promise<void> {
    return until(this.actor, (s) => !s.matches('created') || s.context.interrupted || s.status === 'done').then(() => undefined);
  }
  /** @internal ends the speech (idempotent) */
  _finish(): void {
    if (!this.done()) this.actor.send({ type: 'FINISH' });
  }
  /** @internal */
  isAuthorized(): boolean {
    return this.actor.getSnapshot().matches('authorized');
  }
  /** @internal the step's tools are running */
  runningTools(): boolean {
    return this.actor.getSnapshot().matches('runningTools');
  }
}

/** The reason of a speech's abort signal. */
export class SpeechInterruptedError extends Error {
  override name = 'SpeechInterruptedError';
  constructor(readonly speechId: string) {
    super(`speech ${speechId} was interrupted`);
  }
}
