/**
 * Reasoning models served through OpenAI-compatible servers (Qwen3 or DeepSeek-R1 on Ollama, vLLM, llama.cpp)
 * often put their reasoning in the content, between `<think>` and `</think>`. It must never be spoken or kept as
 * what the agent said. This removes those spans from streamed text whatever the chunking: a chunk that ends in
 * what may be the start of a tag is held back until the next one decides.
 */
const OPEN = '<think>';
const CLOSE = '</think>';

/** Length of the longest end of `s` that is a proper beginning of `tag` (text that may become the tag). */
function partialTagAtEnd(s: string, tag: string): number {
  for (let k = Math.min(tag.length - 1, s.length); k > 0; k--) if (tag.startsWith(s.slice(s.length - k))) return k;
  return 0;
}

export class ThinkingFilter {
  private inThink = false;
  private held = '';
  /** After a reasoning span, whitespace before the answer goes when nothing or a space was said before it. */
  private trimStart = false;
  private lastOut = '';
  /** Whether any reasoning was removed (for metrics or logs). */
  removed = false;

  /** The visible part of `chunk` (possibly empty while a tag is undecided or reasoning goes on). */
  push(chunk: string): string {
    // Most chunks hold no tag and nothing is pending: no scan needed.
    if (!this.inThink && !this.held && !chunk.includes('<')) return this.visible(chunk);
    let buf = this.held + chunk;
    this.held = '';
    let out = '';
    for (;;) {
      if (this.inThink) {
        const end = buf.indexOf(CLOSE);
        if (end < 0) {
          this.held = buf.slice(buf.length - partialTagAtEnd(buf, CLOSE));
          return out;
        }
        buf = buf.slice(end + CLOSE.length);
        this.inThink = false;
        this.trimStart = true;
        continue;
      }
      const start = buf.indexOf(OPEN);
      if (start >= 0) {
        out += this.visible(buf.slice(0, start));
        buf = buf.slice(start + OPEN.length);
        this.inThink = true;
        this.removed = true;
        continue;
      }
      const keep = partialTagAtEnd(buf, OPEN);
      out += this.visible(buf.slice(0, buf.length - keep));
      this.held = buf.slice(buf.length - keep);
      return out;
    }
  }

  /** At the end of the text: held characters that never became a tag are text; unfinished reasoning is dropped. */
  end(): string {
    const rest = this.inThink ? '' : this.held;
    this.held = '';
    return this.visible(rest);
  }

  private visible(s: string): string {
    if (this.trimStart && (this.lastOut === '' || /\s$/.test(this.lastOut))) s = s.replace(/^\s+/, '');
    if (s) {
      this.trimStart = false;
      this.lastOut = s;
    }
    return s;
  }
}
