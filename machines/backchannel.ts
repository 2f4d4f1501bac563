import { normalizedWords } from './words.ts';

/**
 * Backchannels: the short feedback a listener gives while someone else talks ("mhm", "right", "I see"). A user
 * utterance made only of these is not a bid for the floor, so it must not cut the agent off. Pure functions: the
 * activity machine's guards call them with the transcript its events carry.
 */

/** Phrases by language (primary subtag, e.g. `en`); `*` applies to every language. */
export type BackchannelPhrases = Record<string, string[]>;

export const DEFAULT_BACKCHANNEL_PHRASES: BackchannelPhrases = {
  en: [
    'mhm', 'mm', 'mmm', 'mm-hmm', 'mm hmm', 'hmm', 'uh-huh', 'uh huh', 'uh', 'um', 'yeah', 'yep', 'yes', 'yup', 'okay', 'ok',
    'right', 'alright', 'all right', 'i see', 'sure', 'got it', 'gotcha', 'cool', 'nice', 'great', 'oh', 'ah', 'aha', 'wow',
    'true', 'exactly', 'indeed', 'totally', 'of course', 'makes sense', 'that makes sense', 'sounds good', 'go on', 'i know',
  ],
};

/** The phrase lists that apply to a transcript in `language` (all lists when the language is unknown or unlisted). */
function listsFor(phrases: BackchannelPhrases, language?: string): string[][] {
  const base = language?.toLowerCase().split(/[-_]/)[0];
  if (base && phrases[base]) return [phrases[base], phrases['*'] ?? []];
  return Object.values(phrases);
}

/**
 * The normalised phrases (as word lists) for a language, computed once per phrase table and language: the table
 * is the session's configuration, while transcripts are checked on every user event the agent speaks through.
 */
const normalisedCache = new WeakMap<BackchannelPhrases, Map<string, string[][]>>();

function knownPhrases(phrases: BackchannelPhrases, language?: string): string[][] {
  let byLanguage = normalisedCache.get(phrases);
  if (!byLanguage) normalisedCache.set(phrases, (byLanguage = new Map()));
  const key = language ?? '';
  let known = byLanguage.get(key);
  if (!known) {
    known = listsFor(phrases, language)
      .flat()
      .map((p) => normalizedWords(p))
      .filter((p) => p.length > 0);
    byLanguage.set(key, known);
  }
  return known;
}

/**
 * Whether `transcript` consists only of backchannel phrases (case and punctuation ignored; "Yeah, okay." is two
 * phrases). An empty transcript is not a backchannel: nothing was said yet.
 */
export function isBackchannel(transcript: string, phrases: BackchannelPhrases, language?: string): boolean {
  const words = normalizedWords(transcript);
  if (words.length === 0) return false;
  const known = knownPhrases(phrases, language);
  // reachable[i]: the first i words split into known phrases (phrases may span several words: "i see").
  const reachable = new Array<boolean>(words.length + 1).fill(false);
  reachable[0] = true;
  for (let i = 0; i < words.length; i++) {
    if (!reachable[i]) continue;
    for (const p of known) {
      if (i + p.length <= words.length && p.every((w, k) => words[i + k] === w)) reachable[i + p.length] = true;
    }
  }
  return reachable[words.length]!;
}
