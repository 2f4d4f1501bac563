/**
 * Nothing the user said is lost when the session closes: words transcribed but not yet committed as a turn (the
 * endpointing delay still running) are kept in the history as an unanswered user message.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { historyText, startHarness, useVirtualTime } from './helpers/harness.ts';

beforeEach(useVirtualTime);
afterEach(() => vi.useRealTimers());

describe('close with a user turn not yet committed', () => {
  for (const closeAt of [700, 900, 950]) {
    it(`keeps the words when close() comes at ${closeAt} ms (speech 0–500 ms, commit due after the 500 ms delay)`, async () => {
      const h = await startHarness({ utterances: [{ start: 0, end: 500, transcript: 'go' }], llm: [{ input: 'go', content: 'Going.' }] });
      await h.at(closeAt);
      await h.session.close();
      expect(historyText(h.session)).toContain('user: go');
      // Said once, never answered.
      expect(historyText(h.session).filter((l: string) => l.startsWith('user:'))).toEqual(['user: go']);
      expect(historyText(h.session)).not.toContain('assistant: Going.');
    });
  }
});
