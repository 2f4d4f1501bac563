/**
 * The package as a consumer gets it: `npm pack` (whose `prepack` builds dist/), the tarball installed into a fresh
 * app, a TypeScript consumer type-checked under `tsc --init`'s NodeNext configuration, and plain Node (no tsx)
 * running the README's first agent and a JavaScript consumer through real turns (Silero VAD, Flite TTS).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

/** Runs a program; rejects with its output when it fails, so a broken step says what broke. */
function run(cmd: string, args: string[], cwd: string, timeout = 120_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

describe('the npm package', () => {
  let work: string;
  let app: string;
  let files: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'voicechart-pack-'));
    await run('npm', ['pack', '--pack-destination', work], root);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack wrote no tarball into ${work}`);
    files = (await run('tar', ['-tzf', join(work, tarball)], work)).stdout.split('\n').filter(Boolean);

    app = join(work, 'app');
    mkdirSync(join(app, 'src'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
    // A consumer installs the package and a compiler, nothing else: peers (rxjs, zod) and @types/node come with it.
    const typescript = JSON.parse(readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8')).version;
    await run('npm', ['install', '--prefer-offline', join(work, tarball), `typescript@${typescript}`], app);
    // The configuration `tsc --init` writes (module nodenext, strict, noUncheckedIndexedAccess...), compiled to out/,
    // with every declaration checked as well (skipLibCheck off; exactOptionalPropertyTypes off because xstate's own
    // declarations do not pass it).
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '--init'], app);
    cpSync(join(app, 'tsconfig.json'), join(app, 'tsconfig.init.json'));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ extends: './tsconfig.init.json', compilerOptions: { rootDir: 'src', outDir: 'out', skipLibCheck: false, exactOptionalPropertyTypes: false, declaration: false, declarationMap: false, sourceMap: false }, include: ['src'] }),
    );
    cpSync(join(root, 'examples/first-agent.ts'), join(app, 'src/first-agent.ts'));
    cpSync(join(root, 'test/packaging/consumer.ts'), join(app, 'src/consumer.ts'));
    cpSync(join(root, 'test/packaging/consumer.mjs'), join(app, 'consumer.mjs'));
  }, 240_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  }, 120_000);

  it('ships the build, its runtime files, the shims and the notices, without sources or tests', () => {
    for (const f of [
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/testing/index.d.ts',
      'dist/machines/index.d.ts',
      'dist/src/noise/index.js',
      'dist/src/plugins/flite/fliteWorker.mjs',
      'dist/src/types/echogarden.d.ts',
      'dist/examples/sample-input.wav',
      'bin/voicechart.js',
      'LICENSE',
      'NOTICE',
      'NOTICE.flite',
      'README.md',
    ]) {
      expect(files).toContain(`package/${f}`);
    }
    expect(files.filter((f) => /^package\/(src|test|bench|machines|actors)\//.test(f))).toEqual([]);
    // Declarations name JavaScript files only: a `.ts` specifier would not resolve for most consumers.
    const dts = readFileSync(join(app, 'node_modules/voicechart/dist/src/index.d.ts'), 'utf8');
    expect(dts).toMatch(/from '\.\/session\/agentSession\.js'/);
    expect(dts).not.toMatch(/\.ts'/);
  });

  it('type-checks a TypeScript consumer of every subpath and the first agent (tsc --init, NodeNext, every declaration checked): zero errors', async () => {
    await expect(run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], app)).resolves.toMatchObject({ stdout: '' });
    expect(existsSync(join(app, 'out/first-agent.js'))).toBe(true);
  }, 120_000);

  describe.concurrent('then, side by side', { timeout: 120_000 }, () => {
    it("type-checks the same consumer under tsc --init's configuration unchanged (exactOptionalPropertyTypes on)", async () => {
      writeFileSync(join(app, 'tsconfig.default.json'), JSON.stringify({ extends: './tsconfig.init.json', compilerOptions: { noEmit: true }, include: ['src'] }));
      await expect(run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.default.json'], app)).resolves.toMatchObject({ stdout: '' });
    }, 120_000);

    it("runs the README's first agent (examples/first-agent.ts, compiled): greeting, question, tool, answer", async () => {
      const { stdout } = await run(process.execPath, ['out/first-agent.js'], app, 60_000);
      const lines = stdout.trim().split('\n');
      expect(lines.slice(0, 3)).toEqual(['assistant: Hi! Ask me about the weather.', 'user: What is the weather in Paris?', 'assistant: It is sunny in Paris today.']);
      const played = /^agent audio played: (\d+) ms in (\d+) segments$/.exec(lines.at(-1)!);
      expect(played, stdout).not.toBeNull();
      expect(Number(played![1])).toBeGreaterThan(2000);
      expect(Number(played![2])).toBe(2);
    }, 90_000);

    it('runs a JavaScript consumer through one real turn: WAV → RNNoise → Silero VAD → STT → LLM → Flite → 48 kHz → recorded frames', async () => {
      const { stdout } = await run(process.execPath, ['consumer.mjs', join(root, 'test/fixtures/utterance-a-16k.wav')], app, 60_000);
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(r.exports['voicechart']).toEqual(expect.arrayContaining(['AgentSession', 'Agent', 'functionTool', 'AudioFrame']));
      expect(r.exports['voicechart/testing']).toEqual(expect.arrayContaining(['FakeLLM', 'FakeSTT', 'FakeVAD', 'FakeAudioOutput', 'UserSpeechScript']));
      expect(r.exports['voicechart/machines']).toEqual(expect.arrayContaining(['machines', 'sessionMachine', 'userTurnMachine']));
      expect(r.exports['voicechart/plugins/openai']).toEqual(expect.arrayContaining(['OpenAILLM', 'OpenAISTT', 'OpenAITTS', 'OpenAIRealtimeSTT']));
      expect(r.exports['voicechart/plugins/groq']).toEqual(expect.arrayContaining(['GroqLLM', 'GroqSTT', 'GroqTTS']));
      expect(r.exports['voicechart/plugins/silero']).toContain('SileroVAD');
      expect(r.exports['voicechart/plugins/flite']).toContain('FliteTTS');
      expect(r.exports['voicechart/plugins/espeak']).toContain('EspeakTTS');
      expect(r.exports['voicechart/plugins/turn-detector']).toContain('OnnxTurnDetector');
      expect(r.exports['voicechart/noise']).toContain('rnnoise');
      // Silero cut one utterance out of the 1.9 s recording and the STT received it (a WAV of about that length).
      expect(r.uploads).toHaveLength(1);
      expect(r.uploads[0] / 32000).toBeGreaterThan(1);
      expect(r.history).toEqual([
        { role: 'user', text: 'Hello there', interrupted: false },
        { role: 'assistant', text: 'Hi! How can I help?', interrupted: false },
      ]);
      // Flite's voice came out: real samples (not silence), resampled to the output's rate, played to the end.
      expect(r.frames).toBeGreaterThan(10);
      expect(r.sampleRate).toBe(48000);
      expect(r.audioMs).toBeGreaterThan(800);
      expect(r.peak).toBeGreaterThan(1000);
      expect(r.segments).toEqual([expect.objectContaining({ interrupted: false, playedMs: r.audioMs })]);
    }, 90_000);

    it('runs the voicechart command from the built package, from any directory (no sources, no tsx)', async () => {
      expect(existsSync(join(app, 'node_modules/voicechart/src'))).toBe(false);
      const help = await run(process.execPath, ['node_modules/.bin/voicechart', '--help'], app, 60_000);
      expect(help.stdout).toMatch(/usage: voicechart/);
      // The console's default input is the sample shipped in the package: the app has no examples/ folder.
      await run(process.execPath, ['node_modules/.bin/voicechart', 'console', '--quiet', '--report', 'report.json', '--output', 'agent.wav'], app, 60_000);
      const report = JSON.parse(readFileSync(join(app, 'report.json'), 'utf8'));
      expect(JSON.stringify(report.history)).toContain('What time is it?');
      expect(readFileSync(join(app, 'agent.wav')).length).toBeGreaterThan(44 + 16000);
    }, 90_000);
  });
});
