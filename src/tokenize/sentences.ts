import { Observable, type OperatorFunction } from 'rxjs';

export interface SentenceOptions {
  /** Sentences shorter than this (characters) are joined with the next one, so TTS gets natural chunks. */
  minSentenceLength?: number;
  /** A run without any sentence end is cut (at a comma or space) once it grows past this. */
  maxSentenceLength?: number;
}

const ABBREVIATIONS = new Set(
  ['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'vs', 'etc', 'e.g', 'i.e', 'u.s', 'u.k', 'a.m', 'p.m', 'no', 'inc', 'ltd', 'co', 'approx', 'dept', 'fig'],
);
// An end mark, optional closing quotes/brackets, then whitespace; or a CJK full stop (no space needed).
const END = /([.!?…]+["'”’)\]]*)(\s+)|([。！？]+["'”’)\]」』]*)/g;

/** Index just after each certain sentence end in `text` (the next sentence has begun). */
function sentenceEnds(text: string): number[] {
  const ends: number[] = [];
  END.lastIndex = 0;
  for (let m = END.exec(text); m; m = END.exec(text)) {
    if (m[3]) {
      ends.push(m.index + m[0].length);
      continue;
    }
    const after = m.index + m[0].length;
    if (after >= text.length) break; // the next sentence has not started yet: not certain
    if (m[1] === '.') {
      const word = /(\S+)$/.exec(text.slice(0, m.index))?.[1] ?? '';
      const bare = word.toLowerCase().replace(/^["'(“‘]+/, '');
      if (ABBREVIATIONS.has(bare) || /^[A-Za-z]$/.test(bare) || /^(\p{L}\.)+\p{L}$/u.test(bare)) continue; // Dr. / J. Smith / U.S.
    }
    // "e.g. this", "well... mostly": a lowercase start is no new sentence.
    if (/^[.…]/.test(m[1]!) && /^\p{Ll}/u.test(text[after] ?? '')) continue;
    ends.push(m.index + m[1]!.length);
  }
  return ends;
}

/**
 * Splits streamed text into sentences for TTS, emitting each as soon as its end is certain; the rest at completion.
 */
export function splitSentences(opts: SentenceOptions = {}): OperatorFunction<string, string> {
  const minLen = opts.minSentenceLength ?? 20;
  const maxLen = opts.maxSentenceLength ?? 300;
  return (source) =>
    new Observable<string>((sub) => {
      let buf = '';
      let pending = ''; // short sentences waiting to be joined
      const out = (s: string, force = false) => {
        const joined = pending ? `${pending} ${s}` : s;
        if (!force && joined.length < minLen) {
          pending = joined;
          return;
        }
        pending = '';
        if (joined.trim()) sub.next(joined.trim());
      };
      const drain = () => {
        for (;;) {
          const ends = sentenceEnds(buf);
          if (ends.length) {
            const cut = ends[0]!;
            out(buf.slice(0, cut));
            buf = buf.slice(cut).replace(/^\s+/, '');
            continue;
          }
          if (buf.length > maxLen) {
            const window = buf.slice(0, maxLen);
            const comma = window.lastIndexOf(', ');
            const space = window.lastIndexOf(' ');
            const cut = comma > maxLen / 2 ? comma + 1 : space > 0 ? space : maxLen;
            out(buf.slice(0, cut), true);
            buf = buf.slice(cut).replace(/^\s+/, '');
            continue;
          }
          return;
        }
      };
      return source.subscribe({
        next: (chunk) => {
          buf += chunk;
          drain();
        },
        error: (e) => sub.error(e),
        complete: () => {
          drain();
          out(buf, true);
          sub.complete();
        },
      });
    });
}
