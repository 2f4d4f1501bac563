import { from, lastValueFrom, toArray, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { filterEmoji, filterMarkdown, replaceWords, resolveTextTransforms, type TextTransform } from '../src/transcription/textTransforms.ts';

const run = async (t: TextTransform, chunks: string[]) => (await lastValueFrom(t(from(chunks)).pipe(toArray()))).join('');
const md = (s: string) => run(filterMarkdown, [s]);

describe('filter_markdown', () => {
  it.each([
    ['# Title\nBody.', 'Title\nBody.'],
    ['###### Deep header', 'Deep header'],
    ['#hashtag stays', '#hashtag stays'],
    ['- one\n+ two\n  * three', 'one\ntwo\nthree'],
    ['> quoted text', 'quoted text'],
    ['above\n---\nbelow', 'above\n\nbelow'],
    ['above\n * * *\nbelow', 'above\n\nbelow'],
    ['a - b -- c', 'a - b -- c'],
    ['See ![a cat](http://x/cat.png) here.', 'See a cat here.'],
    ['Go to [the docs](https://example.com/docs).', 'Go to the docs.'],
    ['This is **bold**, *italic* and ***both***.', 'This is bold, italic and both.'],
    ['Also __bold__, _italic_ and ___both___.', 'Also bold, italic and both.'],
    ['keep snake_case and my__dunder__name', 'keep snake_case and my__dunder__name'],
    ['2 * 3 * 4 = 24', '2 * 3 * 4 = 24'],
    ['Run `npm test` now.', 'Run npm test now.'],
    ['```ts\nconst x = 1;\n```', '\nconst x = 1;\n'],
    ['This is ~~wrong~~ right.', 'This is  right.'],
    ['中文**强调**文本', '中文强调文本'],
  ])('%j → %j', async (input, expected) => {
    expect(await md(input)).toBe(expected);
  });

  it('gives the same result however the text is chunked', async () => {
    const inputs = [
      '# Plan\n- **Step one**: open [the app](http://a.b/c).\n- Step _two_, then `run` it!\nDone ~~not~~ now.',
      'Mix of *emphasis*, __strong__ and snake_case_names; also 3.14 * 2.',
      'Numbers 1, 2, 3. Quotes "like this". Ellipsis... end',
    ];
    for (const input of inputs) {
      const whole = await md(input);
      for (let i = 1; i < input.length; i++) {
        expect(await run(filterMarkdown, [input.slice(0, i), input.slice(i)]), `split at ${i}`).toBe(whole);
      }
      expect(await run(filterMarkdown, [...input])).toBe(whole); // one character at a time
    }
  });

  it('releases text before the end of the input (streaming), not only at completion', async () => {
    const seen: string[] = [];
    await new Promise<void>((resolve) =>
      filterMarkdown(from(['Hello there, ', 'this is **bo', 'ld** text. More'])).subscribe({ next: (t) => seen.push(t), complete: resolve }),
    );
    // The first chunk ends in a space (maybe a marker follows): it goes out with the next one, up to the open `**`.
    expect(seen).toEqual(['Hello there, this is ', 'bold text. ', 'More']);
  });

  it('handles 1 MB of text in linear time', async () => {
    const line = 'Some **bold** words, a [link](http://x.y) and `code`.\n';
    const big = line.repeat(Math.ceil(1_000_000 / line.length));
    const chunks = big.match(/.{1,37}/gs)!;
    const out = await run(filterMarkdown, chunks);
    expect(out.length).toBe(big.length - (line.length - 'Some bold words, a link and code.\n'.length) * (big.length / line.length));
  });
});

describe('filter_emoji and transform chains', () => {
  it('removes emoji, variation selectors, ZWJ and keycaps', async () => {
    const out = await run(filterEmoji, ['Great 👍🏽 job ❤️ 👨‍👩‍👧 1️⃣ ok ✨']);
    expect(out).not.toMatch(/[\u{1F000}-\u{1FBFF}\u2600-\u27BF\uFE0F\u200D\u20E3]/u);
    expect(out.replace(/\s+/g, ' ')).toBe('Great job 1 ok ');
  });

  it('removes every code point of its ranges even alone in a chunk (the cheap pre-test misses none)', async () => {
    const ranges: Array<[number, number]> = [[0x1f000, 0x1fbff], [0x2600, 0x26ff], [0x2700, 0x27bf], [0x2b00, 0x2bff], [0xfe00, 0xfe0f], [0x200d, 0x200d], [0x20e3, 0x20e3]];
    const chunks: string[] = [];
    for (const [a, b] of ranges) for (let cp = a; cp <= b; cp++) chunks.push(`x${String.fromCodePoint(cp)}`);
    const out = await lastValueFrom(filterEmoji(from(chunks)).pipe(toArray()));
    expect(out.filter((c) => c !== 'x')).toEqual([]);
    expect(out).toHaveLength(chunks.length);
  });

  it('resolves names in order, null disables, unknown names fail clearly', async () => {
    const both = resolveTextTransforms(undefined);
    expect(await run(both, ['**Hi** 😀 there'])).toBe('Hi  there');
    expect(await run(resolveTextTransforms(null), ['**Hi** 😀'])).toBe('**Hi** 😀');
    expect(() => resolveTextTransforms(['filter_nonsense' as never])).toThrow(/unknown text transform "filter_nonsense"/);
    const custom: TextTransform = (s: Observable<string>) => replaceWords({ LiveKit: 'Live Kit' })(s);
    expect(await run(resolveTextTransforms(['filter_markdown', custom]), ['Use **Live', 'Kit** and livekit.'])).toBe('Use Live Kit and Live Kit.');
  });
});
