/**
 * Markdown → speakable text, for complete lines (line rules) and for text spans (inline rules).
 * Rules follow LiveKit Agents' `filter_markdown` (see README "Text transforms").
 */

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Hangul}';

const HEADER = /^#{1,6}\s+/;
const LIST_MARKER = /^\s*[-+*]\s+/;
const BLOCK_QUOTE = /^\s*>\s+/;
const HORIZONTAL_RULE = /^ {0,3}([-*_])( *\1){2,} *$/;

const CODE_FENCE = /`{3,4}\S*/g;
const INLINE_CODE = /`([^`\n]*)`/g;
const IMAGE = /!\[([^\]\n]*)\]\([^)\n]*\)/g;
const LINK = /\[([^\]\n]*)\]\([^)\n]*\)/g;
const STRIKETHROUGH = /~~[^~\n]*~~/g;
// Asterisk runs may not be intra-word, unless the neighbour is CJK (which has no spaces between words).
const ASTERISK = new RegExp(
  `(?<=^|[^\\p{L}\\p{N}*]|[${CJK}])(\\*{1,3})(?!\\s)([^*\\n]+?)(?<!\\s)\\1(?=$|[^\\p{L}\\p{N}*]|[${CJK}])`,
  'gu',
);
// Underscores need non-word boundaries on both sides, so snake_case and __dunder__ names survive.
const UNDERSCORE = /(?<![\p{L}\p{N}_])(_{1,3})(?!\s)([^_\n]+?)(?<!\s)\1(?![\p{L}\p{N}_])/gu;

// Fast paths: most spoken text has none of the characters a rule needs, and the Unicode-aware rules are costly
// (the text path runs them on every chunk of every reply).
/** A line-start rule can only match a line starting (after spaces) with one of these. */
const MAYBE_LINE_START = /^\s*[#>\-+*_]/;
/** An inline rule or a pending construct needs one of these. */
const MAYBE_INLINE = /[`[~*_]/;

/** Rules that only make sense at the start of a line. `complete`: the whole line is known. */
export function stripLineStart(line: string, complete: boolean): string {
  if (!MAYBE_LINE_START.test(line)) return line;
  if (complete && HORIZONTAL_RULE.test(line)) return '';
  return line.replace(HEADER, '').replace(BLOCK_QUOTE, '').replace(LIST_MARKER, '');
}

export function stripInline(text: string): string {
  if (!MAYBE_INLINE.test(text)) return text;
  return text
    .replace(CODE_FENCE, '')
    .replace(INLINE_CODE, '$1')
    .replace(IMAGE, '$1')
    .replace(LINK, '$1')
    .replace(STRIKETHROUGH, '')
    .replace(ASTERISK, '$2')
    .replace(UNDERSCORE, '$2')
    .replace(ASTERISK, '$2');
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

/**
 * Whether a span may still be the start of a construct that later text completes: an unbalanced emphasis
 * marker, an odd number of backticks or `~~`, or an open link/image.
 */
export function hasPendingConstruct(span: string): boolean {
  if (!MAYBE_INLINE.test(span)) return false;
  const body = span.replace(LIST_MARKER, '');
  if (count(body.replace(/\*\*\*|\*\*/g, ''), /\*/g) % 2 === 1 || count(body, /\*\*/g) % 2 === 1) return true;
  if (count(body.replace(/[\p{L}\p{N}]_+(?=[\p{L}\p{N}])/gu, ''), /_/g) % 2 === 1) return true;
  if (count(body, /`/g) % 2 === 1) return true;
  if (count(body, /~~/g) % 2 === 1) return true;
  const open = body.lastIndexOf('[');
  if (open !== -1) {
    const rest = body.slice(open);
    // `[text]` alone is plain text once something other than `(` follows it.
    if (!rest.includes(']') || /\]$/.test(rest) || /\]\([^)]*$/.test(rest)) return true;
  }
  return false;
}
