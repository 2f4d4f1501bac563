import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { splitSentences } from '../src/tokenize/sentences.ts';

const split = async (chunks: string[], opts = {}) => lastValueFrom(from(chunks).pipe(splitSentences(opts), toArray()));

describe('splitSentences', () => {
  it('splits on sentence ends, keeping abbreviations, initials, decimals and ellipses inside', async () => {
    const text =
      'Dr. Smith met Mr. J. Brown at 3.14 p.m. in the U.S. office today. It went well... mostly! Did you know? ' +
      'Prices rose e.g. for bread, i.e. a staple. "Really," she said. (The end.) Next one here.';
    expect(await split([text], { minSentenceLength: 0 })).toEqual([
      'Dr. Smith met Mr. J. Brown at 3.14 p.m. in the U.S. office today.',
      'It went well... mostly!',
      'Did you know?',
      'Prices rose e.g. for bread, i.e. a staple.',
      '"Really," she said.',
      '(The end.)',
      'Next one here.',
    ]);
  });

  it('emits a sentence as soon as the next one begins, whatever the chunking', async () => {
    const text = 'First sentence is here. Second sentence follows now. Third!';
    const whole = await split([text]);
    for (let i = 1; i < text.length; i++) expect(await split([text.slice(0, i), text.slice(i)])).toEqual(whole);
    const seen: string[] = [];
    const src = from(['First sentence is here. Sec', 'ond one']);
    src.pipe(splitSentences()).subscribe((s) => seen.push(s));
    expect(seen).toEqual(['First sentence is here.', 'Second one']);
  });

  it('joins short sentences up to minSentenceLength', async () => {
    expect(await split(['Hi. Yes. Ok then, this is longer. End.'])).toEqual(['Hi. Yes. Ok then, this is longer.', 'End.']);
  });

  it('handles CJK full stops and text without punctuation', async () => {
    expect(await split(['你好。今天天气很好！我们走吧'], { minSentenceLength: 0 })).toEqual(['你好。', '今天天气很好！', '我们走吧']);
    expect(await split(['no punctuation at all here'])).toEqual(['no punctuation at all here']);
  });

  it('cuts very long runs at a comma or space so TTS never waits for a huge sentence', async () => {
    const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const out = await split([long], { maxSentenceLength: 120 });
    expect(out.length).toBeGreaterThan(5);
    expect(out.every((s) => s.length <= 120)).toBe(true);
    expect(out.join(' ')).toBe(long);
  });
});
