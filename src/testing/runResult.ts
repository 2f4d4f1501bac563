/**
 * What one `session.run({ userInput })` produced: the turn's events in the session history's order, and `expect`,
 * a cursor of assertions over them (see runExpect.ts).
 */
import { RunExpect } from './runExpect.ts';
import type { RunEvent } from './runEvents.ts';

export class RunResult {
  private cursor: RunExpect | null = null;

  constructor(
    /** The text the run sent as the user's turn. */
    readonly userInput: string,
    /** The turn's messages, tool calls, tool outputs and handoffs, in the order of the session history. */
    readonly events: readonly RunEvent[],
  ) {}

  /**
   * Assertions over `events`, walked in order. One cursor per result: successive `result.expect.nextEvent()`
   * calls move through the events.
   */
  get expect(): RunExpect {
    return (this.cursor ??= new RunExpect(this.events));
  }

  /** Always true: `session.run()` resolves once the turn is over (kept for code written against LiveKit's API). */
  done(): boolean {
    return true;
  }
}

/** A run's failure (its LLM failed, or the session closed): the events recorded up to then are kept. */
export class RunError extends Error {
  override name = 'RunError';
  constructor(
    message: string,
    readonly events: readonly RunEvent[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

