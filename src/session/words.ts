import { splitWords } from '../../machines/words.ts';

/** Word handling lives with the machines (their guards count words too); the runtime uses the same functions. */
export { countWords, pendingText, splitWords } from '../../machines/words.ts';

/** Same words, ignoring case and punctuation: a preemptive reply made for one still fits the other. */
export function transcriptsEquivalent(a: string, b: string): boolean {
  if (a === b) return true;
  const norm = (s: string) => splitWords(s.toLowerCase()).map((w) => w.replace(/[^\p{L}\p{N}']/gu, ''));
  const x = norm(a);
  const y = norm(b);
  return x.length === y.length && x.every((w, i) => w === y[i]);
}
