import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunk, finish, startChatServer } from './providerServers/sseChatServer.ts';

const run = promisify(execFile);
let server: Awaited<ReturnType<typeof startChatServer>>;
beforeAll(async () => (server = await startChatServer()));
afterAll(() => server.close());

describe('voicechart console (the main job)', () => {
  it('runs typed turns through a local OpenAI-compatible LLM, speaks with Flite, writes the report and the WAV', async () => {
    server.script.push({ kind: 'stream', chunks: [chunk('Hello from the local model.'), finish('stop')] });
    const dir = mkdtempSync(join(tmpdir(), 'vc-console-'));
    const report = join(dir, 'report.json');
    const wav = join(dir, 'agent.wav');
    const env = { ...process.env, OPENAI_API_KEY: '', GROQ_API_KEY: '' };
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'console', '--text', 'hi there', '--llm-base-url', `${server.url}/v1`, '--report', report, '--output', wav],
      { env, timeout: 60_000 },
    );
    expect(stdout).toContain('LLM: openai/llama3.2');
    expect(stdout).toContain('agent › Hello from the local model.');
    const r = JSON.parse(readFileSync(report, 'utf8'));
    const said = r.history.filter((i: any) => i.type === 'message').map((m: any) => `${m.role}: ${m.content.join(' ')}`);
    expect(said).toEqual(['assistant: Hello! How can I help you today?', 'user: hi there', 'assistant: Hello from the local model.']);
    expect(r.errors).toEqual([]);
    expect(server.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: 'user', content: 'hi there' });
    // Two spoken replies of a few seconds at 16 kHz: well over 50 kB of PCM.
    expect(statSync(wav).size).toBeGreaterThan(50_000);
  }, 60_000);

  it('--input streams a WAV through Silero VAD in real time: two spoken questions become two user turns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vc-console-'));
    const report = join(dir, 'report.json');
    const env = { ...process.env, OPENAI_API_KEY: '', GROQ_API_KEY: '' };
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'console', '--input', 'examples/sample-input.wav', '--tts', 'silent', '--report', report, '--output', join(dir, 'a.wav')],
      { env, timeout: 60_000 },
    );
    expect(stdout).toContain('No STT provider is configured');
    const r = JSON.parse(readFileSync(report, 'utf8'));
    const userTurns = r.history.filter((i: any) => i.type === 'message' && i.role === 'user');
    expect(userTurns).toHaveLength(2);
    const speaking = r.timeline.filter((e: any) => e.user === 'speaking').map((e: any) => e.atMs);
    // The sample's questions start at 1000 ms and 7279 ms (see examples/scriptedProviders.ts).
    const { sampleUtterances } = await import('../examples/scriptedProviders.ts');
    expect(speaking).toHaveLength(2);
    speaking.forEach((t: number, i: number) => expect(Math.abs(t - sampleUtterances[i]!.start), `turn ${i} at ${t}`).toBeLessThan(300));
  }, 60_000);

  it('rejects unknown options with usage', async () => {
    await expect(run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'console', '--tts', 'nope'])).rejects.toMatchObject({ code: 2 });
  });
});
