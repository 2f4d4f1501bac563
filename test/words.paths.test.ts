/** The word splitter's ASCII fast path and its general path agree; the backchannel phrase cache keeps languages apart. */
import { describe, expect, it } from 'vitest';
import { isBackchannel } from '../machines/backchannel.ts';
import { countWords, normalizedWords, pendingText, splitWords } from '../machines/words.ts';

/** Deterministic pseudo-random ASCII text: letters, digits, punctuation, apostrophes, hyphens and all kinds of blanks. */
function asciiTexts(n: number, seed = 11): string[] {
  const alphabet = "abcXYZ019 .,!?'-\t\n\r  --''..";
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: n }, () => Array.from({ length: Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

describe('splitWords', () => {
  it('splits ASCII text as the general (Unicode) path does', () => {
    // A trailing non-ASCII word sends the same text down the general path.
    for (const text of asciiTexts(2000)) expect(splitWords(text), JSON.stringify(text)).toEqual(splitWords(`${text} é`).slice(0, -1));
  });

  it('counts punctuation-only tokens as no word, on both paths', () => {
    expect(countWords(' -- ... ok, fine! ')).toBe(2);
    expect(countWords(' -- ... ok, fine! é')).toBe(3);
    expect(countWords('東京 is big')).toBe(4);
    expect(normalizedWords("Uh-huh, DON'T.")).toEqual(['uh-huh', "don't"]);
  });
});

describe('countWords remembers its last answer', () => {
  it('answers each text by its own words, repeated or alternating', () => {
    const texts = asciiTexts(300, 5).flatMap((t, i) => (i % 3 === 0 ? [t, t, `${t} é`, t] : [t]));
    for (const text of texts) expect(countWords(text), JSON.stringify(text)).toBe(splitWords(text).length);
  });

  it('joins finals and interim as one trimmed text', () => {
    expect(pendingText('', '')).toBe('');
    expect(pendingText(' hello ', '')).toBe('hello');
    expect(pendingText('', ' there')).toBe('there');
    expect(pendingText('hello', 'there ')).toBe('hello there');
  });
});

describe('isBackchannel phrase cache', () => {
  it('answers per language from one phrase table, whatever was asked before', () => {
    const table = { en: ['yeah', 'i see'], fr: ['ouais', "d'accord"] };
    expect(isBackchannel('ouais', table, 'fr')).toBe(true);
    expect(isBackchannel('ouais', table, 'en')).toBe(false);
    expect(isBackchannel('I see.', table, 'en-US')).toBe(true);
    expect(isBackchannel('I see.', table, 'fr')).toBe(false);
    expect(isBackchannel("yeah, d'accord", table)).toBe(true); // unknown language: every list
    expect(isBackchannel('ouais', table, 'fr')).toBe(true);
  });
});
