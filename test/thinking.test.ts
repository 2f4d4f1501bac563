import { describe, expect, it } from 'vitest';
import { ThinkingFilter } from '../src/llm/thinking.ts';

const run = (chunks: string[]) => {
  const f = new ThinkingFilter();
  const out = chunks.map((c) => f.push(c)).join('') + f.end();
  return { out, removed: f.removed };
};

/** Every way of cutting `text` into two and three chunks. */
function* splits(text: string): Generator<string[]> {
  for (let i = 0; i <= text.length; i++) {
    yield [text.slice(0, i), text.slice(i)];
    for (let j = i; j <= text.length; j += 3) yield [text.slice(0, i), text.slice(i, j), text.slice(j)];
  }
}

describe('ThinkingFilter', () => {
  it('removes reasoning spans and the blank lines after them, however the text is chunked', () => {
    const text = '<think>The user wants the time. Say it.</think>\n\nIt is 3 pm. <think>more</think> Anything else?';
    for (const chunks of splits(text)) expect(run(chunks).out, JSON.stringify(chunks)).toBe('It is 3 pm. Anything else?');
  });

  it('leaves text without tags alone, including a lone < and things that only look like a tag start', () => {
    for (const text of ['2 < 3 and <b> is bold', 'ends with <thi', 'a <thinker> speaks', 'plain']) {
      for (const chunks of splits(text)) expect(run(chunks)).toEqual({ out: text, removed: false });
    }
  });

  it('unfinished reasoning at the end is dropped; held text is released at the end', () => {
    expect(run(['Sure. <think>let me', ' see'])).toEqual({ out: 'Sure. ', removed: true });
    const f = new ThinkingFilter();
    expect(f.push('Answer <')).toBe('Answer ');
    expect(f.end()).toBe('<');
  });
});
