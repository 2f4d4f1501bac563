/** The README's "A first agent" is examples/first-agent.ts, which test/packaging.test.ts runs: they must not drift. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The first ```ts block under a `## heading`. */
function firstCodeBlock(markdown: string, heading: string): string {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`README has no "## ${heading}" section`);
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section);
  if (!block) throw new Error(`"## ${heading}" has no ts code block`);
  return block[1]!;
}

describe('README', () => {
  it('shows examples/first-agent.ts, character for character, as "A first agent"', () => {
    expect(firstCodeBlock(read('README.md'), 'A first agent')).toBe(read('examples/first-agent.ts'));
  });

  it('has concrete providers in that example (no undefined stt, llm, tts, vad placeholders)', () => {
    const code = read('examples/first-agent.ts');
    expect(code).toMatch(/new AgentSession\(\{ stt, llm, tts: new FliteTTS\(\), vad: await SileroVAD\.load\(\) \}\)/);
    expect(code).toMatch(/^const stt = /m);
    expect(code).toMatch(/^const llm = /m);
  });
});
