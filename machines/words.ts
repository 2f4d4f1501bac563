/** Word handling for turn rules: CJK, kana, Thai and Hangul characters count one word each. Pure, shared by the
 * machines (user-turn limits, backchannel phrases) and the runtime (interruption word counts). */
const CHAR_WORD = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\uac00-\ud7af]/u;
const HAS_WORD_CHAR = /[\p{L}\p{N}]/u;

/** Plain ASCII: no character counts as a word of its own, and a letter or digit is [A-Za-z0-9]. */
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const ASCII_WORD_CHAR = /[A-Za-z0-9]/;

export function splitWords(text: string): string[] {
  // The common case (English transcripts) without the per-character scan: a word is a token with a letter or digit.
  if (ASCII_ONLY.test(text)) return text.split(/\s+/).filter((token) => ASCII_WORD_CHAR.test(token));
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

/** A turn's text so far: its finals and the interim after them, trimmed. */
export const pendingText = (transcript: string, interim: string): string =>
  (interim ? (transcript ? `${transcript} ${interim}` : interim) : transcript).trim();

/**
 * The last count, kept: the same pending transcript is counted on every VAD inference while the user speaks, by the
 * runtime and again by the guards (a pure function of the text, so one remembered answer is always right).
 */
let counted: { text: string; words: number } = { text: '', words: 0 };

export function countWords(text: string): number {
  if (text !== counted.text) counted = { text, words: splitWords(text).length };
  return counted.words;
}

/** Lower-case words without punctuation ("Uh-huh," → "uh-huh", "OK." → "ok"): what phrase and transcript
 * comparisons look at. Inner hyphens and apostrophes are kept so "uh-huh" and "don't" stay one word. */
export const normalizedWords = (text: string): string[] =>
  splitWords(text.toLowerCase())
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => w.length > 0);
