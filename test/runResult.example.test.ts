/** README "Testing a turn" is examples/testing-agent.test.ts, character for character, and that vitest file passes. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const HEADING = '### Testing a turn: `session.run()`';

/** The first ```ts block after the heading line, before the next heading. */
function codeBlockUnder(markdown: string, heading: string): string {
  const start = markdown.split('\n').indexOf(heading);
  if (start === -1) throw new Error(`README has no "${heading}" heading`);
  const section = markdown.split('\n').slice(start + 1);
  const end = section.findIndex((l) => /^#{1,3} /.test(l));
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(section.slice(0, end === -1 ? undefined : end).join('\n'));
  if (!block) throw new Error(`"${heading}" has no ts code block`);
  return block[1]!;
}

describe('README: testing a turn', () => {
  it('shows examples/testing-agent.test.ts, character for character', () => {
    expect(codeBlockUnder(read('README.md'), HEADING)).toBe(read('examples/testing-agent.test.ts'));
  });

  it('runs examples/testing-agent.test.ts with vitest (examples/vitest.config.ts): every test passes', async () => {
    const out = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', '--config', 'examples/vitest.config.ts', '--reporter', 'json'],
        { cwd: root, timeout: 110_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: stdout + stderr }),
      );
    });
    const json = JSON.parse(out.text.slice(out.text.indexOf('{'), out.text.lastIndexOf('}') + 1));
    expect(json.testResults.map((f: { name: string }) => f.name.replace(root, ''))).toEqual(['examples/testing-agent.test.ts']);
    expect({ passed: json.numPassedTests, failed: json.numFailedTests }).toEqual({ passed: 2, failed: 0 });
    expect(out.code).toBe(0);
  }, 120_000);
});
