/**
 * Streaming transforms applied to the text sent to the TTS (never to transcripts or history).
 * A transform is an RxJS operator on text chunks; built-ins are referred to by name.
 */
import { map, Observable, type OperatorFunction } from 'rxjs';
import { hasPendingConstruct, stripInline, stripLineStart } from './markdown.ts';

export type TextTransform = OperatorFunction<string, string>;

/** Characters after which a partial line may be released, when nothing before them is pending. */
const SPLIT_CHARS = new Set([' ', ',', '.', '?', '!', ';', '，', '。', '？', '！', '；']);
/** A buffer ending in one of these may be the start of a markdown construct: hold it. */
const HOLD_ENDINGS = new Set(['#', '-', '+', '*', '_', '>', '!', '`', '~', ' ']);

/**
 * Removes markdown so the TTS does not read it aloud. Whole lines are released at newlines (with line rules);
 * inside a line, text is released up to the last split character once no construct is pending there.
 */
export const filterMarkdown: TextTransform = (source) =>
  new Observable<string>((sub) => {
    let buf = '';
    let atLineStart = true;
    const emit = (s: string) => {
      if (s) sub.next(s);
    };
    const flushLine = (line: string, complete: boolean) => {
      const body = atLineStart ? stripLineStart(line, complete) : line;
      emit(stripInline(body));
    };
    const releasePartial = () => {
      if (!buf || HOLD_ENDINGS.has(buf[buf.length - 1]!)) return;
      // Line-start markers must be seen whole before the start of a line can go out.
      if (atLineStart && /^\s*(#{1,6}|[-+*>])?\s*$/.test(buf)) return;
      for (let i = buf.length - 1; i >= 0; i--) {
        if (!SPLIT_CHARS.has(buf[i]!)) continue;
        const prefix = buf.slice(0, i + 1);
        if (hasPendingConstruct(prefix)) continue;
        flushLine(prefix, false);
        atLineStart = false;
        buf = buf.slice(i + 1);
        return;
      }
    };
    return source.subscribe({
      next: (chunk) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) !== -1) {
          flushLine(buf.slice(0, nl), true);
          emit('\n');
          buf = buf.slice(nl + 1);
          atLineStart = true;
        }
        releasePartial();
      },
      error: (e) => sub.error(e),
      complete: () => {
        if (buf) flushLine(buf, true);
        sub.complete();
      },
    });
  });

const EMOJI = /[\u{1F000}-\u{1FBFF}\u{2600}-\u{26FF}\u{2700}-\u{27BF}\u{2B00}-\u{2BFF}\u{FE00}-\u{FE0F}\u{200D}\u{20E3}]/gu;

/** Code units any EMOJI match contains (astral pictographs start with a high surrogate D83C–D83E): a cheap pre-test. */
const MAYBE_EMOJI = /[\u200D\u20E3\u2600-\u27BF\u2B00-\u2BFF\uFE00-\uFE0F\uD83C-\uD83E]/;

/** Deletes emoji (pictographs, dingbats, variation selectors, ZWJ, keycaps) chunk by chunk. */
export const filterEmoji: TextTransform = (source) => source.pipe(map((t) => (MAYBE_EMOJI.test(t) ? t.replace(EMOJI, '') : t)));

const BUILT_INS: Record<string, TextTransform> = { filter_markdown: filterMarkdown, filter_emoji: filterEmoji };
export const DEFAULT_TEXT_TRANSFORMS = ['filter_markdown', 'filter_emoji'] as const;

/** Chains transforms by name or function; undefined → the defaults, null → none. */
export function resolveTextTransforms(names: ReadonlyArray<string | TextTransform> | null | undefined): TextTransform {
  const list = names === undefined ? DEFAULT_TEXT_TRANSFORMS : (names ?? []);
  const fns = list.map((n) => {
    if (typeof n === 'function') return n;
    const f = BUILT_INS[n];
    if (!f) throw new Error(`unknown text transform ${JSON.stringify(n)} (built-ins: ${Object.keys(BUILT_INS).join(', ')})`);
    return f;
  });
  return (source) => fns.reduce((s, f) => f(s), source);
}

/**
 * A streaming word replacement, e.g. `replaceWords({ 'LiveKit': 'Live Kit' })` for pronunciation. Words are
 * matched whole; text is held back only while its last word might continue.
 */
export function replaceWords(mapping: Record<string, string>, opts: { caseSensitive?: boolean } = {}): TextTransform {
  const keys = Object.keys(mapping);
  if (!keys.length) return (s) => s;
  const esc = (k: string) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(${keys.map(esc).join('|')})(?![\\p{L}\\p{N}])`, opts.caseSensitive ? 'gu' : 'giu');
  const lookup = new Map(keys.map((k) => [opts.caseSensitive ? k : k.toLowerCase(), mapping[k]!]));
  const apply = (t: string) => t.replace(re, (m) => lookup.get(opts.caseSensitive ? m : m.toLowerCase()) ?? m);
  return (source) =>
    new Observable<string>((sub) => {
      let buf = '';
      return source.subscribe({
        next: (chunk) => {
          buf += chunk;
          const cut = buf.search(/\s\S*$/);
          if (cut <= 0) return;
          sub.next(apply(buf.slice(0, cut + 1)));
          buf = buf.slice(cut + 1);
        },
        error: (e) => sub.error(e),
        complete: () => {
          if (buf) sub.next(apply(buf));
          sub.complete();
        },
      });
    });
}
