/** Word handling for turn rules: CJK, kana, Thai and Hangul characters count one word each. */
const CHAR_WORD = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\uac00-\ud7af]/u;
const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;

export function splitWords(text: string): string[] {
  const words: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (!token || !HAS_WORD_CHAR.test(token)) continue;
    let run = '';
    for (const ch of token) {
      if (CHAR_WORD.test(ch)) {
        if (run && HAS_WORD_CHAR.test(run)) words.push(run);
        run = '';
        words.push(ch);
      } else run += ch;
    }
    if (run && HAS_WORD_CHAR.test(run)) words.push(run);
  }
  return words;
}

export const countWords = (text: string): number => splitWords(text).length;

/** Same words, ignoring case and punctuation: a preemptive reply made for one still fits the other. */
export function transcriptsEquivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const norm = (s: string) => splitWords(s.toLowerCase()).map((w) => w.replace(/[^\p{L}\p{N}']/gu, ''));
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((w, i) => w === y[i]);
}
