/** The CLI as a user meets it: usage errors, --help, a truncated WAV, and (real server) `dev` reloading and `connect --room`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONSOLE_OPTIONS, WORKER_OPTIONS } from '../../src/cli/args.ts';
import { USAGE } from '../../src/cli/usage.ts';
import { agentsIn, haveServer, join as joinRoom, LK, uniq, waitFor } from './lk.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}
const noServerEnv = { LIVEKIT_URL: '', LIVEKIT_API_KEY: '', LIVEKIT_API_SECRET: '' };

describe('voicechart CLI usage', () => {
  it.each([
    [[], 'no command given'],
    [['deploy'], 'unknown command "deploy" (commands: console, dev, start, connect)'],
    [['start'], 'start needs an agent file (voicechart start agent.ts)'],
    [['connect', 'agent.ts'], 'connect needs --room <name>'],
    [['start', 'agent.ts', '--frobnicate'], "start: Unknown option '--frobnicate'"],
    [['console', '--tts', 'nope'], '--tts must be flite, espeak or silent, got "nope"'],
    [['start', 'agent.ts', '--log-level', 'loud'], '--log-level must be debug, info, warn or error, got "loud"'],
  ])('%j → one line naming the mistake, the usage, exit 2, no stack trace', async (args, line) => {
    const r = cli(args);
    expect(await r.exit).toBe(2);
    const lines = r.err().split('\n');
    expect(lines[0]).toBe(`voicechart: ${line}`);
    expect(r.err()).toContain('usage: voicechart <command>');
    expect(r.err()).not.toMatch(/^\s+at /m);
  });

  it('--help lists every option of every command, exit 0', async () => {
    const r = cli(['--help']);
    expect(await r.exit).toBe(0);
    expect(r.out()).toBe(USAGE);
    const hidden = new Set(['dev-child']);
    for (const name of [...Object.keys(WORKER_OPTIONS), ...Object.keys(CONSOLE_OPTIONS)]) if (!hidden.has(name)) expect(USAGE).toContain(`--${name}`);
  });

  it('a missing agent file and missing credentials are one line each, printed once', async () => {
    const missing = cli(['start', 'nowhere/agent.ts']);
    expect(await missing.exit).toBe(1);
    expect(missing.err()).toBe('voicechart: agent file not found: nowhere/agent.ts\n');
    const creds = cli(['start', 'test/worker/agents/echoAgent.ts'], noServerEnv);
    expect(await creds.exit).toBe(1);
    expect(creds.err()).toBe(
      'voicechart: missing LIVEKIT_URL (--url), LIVEKIT_API_KEY (--api-key), LIVEKIT_API_SECRET (--api-secret): the worker needs the server\'s URL and an API key and secret\n',
    );
  }, 30_000);

  it('console warns once about a truncated WAV and still plays it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vc-cli-'));
    const whole = readFileSync(join(ROOT, 'test/fixtures/utterance-a-16k.wav'));
    const cut = join(dir, 'cut.wav');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const r = cli(['console', '--input', cut, '--tts', 'silent', '--report', join(dir, 'r.json'), '--output', join(dir, 'o.wav')]);
    expect(await r.exit).toBe(0);
    expect(r.err().match(/truncated/g)).toHaveLength(1);
    expect(r.err()).toMatch(/warning: .*cut\.wav is truncated \(header declares \d+ bytes of audio, the file has \d+\)/);
    expect(r.out()).toContain('Scripted mode can answer exactly two things');
  }, 60_000);
});

describe.skipIf(!haveServer)('voicechart dev / connect (real LiveKit server)', () => {
  const agentSource = (version: string) => `
import { defineAgent } from ${JSON.stringify(join(ROOT, 'src/worker/index.ts'))};
export default defineAgent({
  entry: async (ctx) => {
    await ctx.connect();
    await ctx.agent.setAttributes({ 'test.job': ctx.job.id, 'test.version': ${JSON.stringify(version)} });
  },
});
`;

  it('dev restarts the worker when the agent file changes; new jobs run the new code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vc-dev-'));
    const file = join(dir, 'agent.ts');
    writeFileSync(file, agentSource('v1'));
    const name = uniq('dev');
    const r = cli(['dev', file, '--agent-name', name], { LIVEKIT_URL: LK.url, LIVEKIT_API_KEY: LK.key, LIVEKIT_API_SECRET: LK.secret });
    try {
      await waitFor(() => r.err().includes('registered'), 20_000, `dev registered:\n${r.err()}`);
      const a = await joinRoom(uniq('dev'), uniq('u'), [{ agentName: name }]);
      const v1 = await waitFor(() => agentsIn(a).find((p) => p.attributes['test.version']), 20_000, 'v1 agent');
      expect(v1.attributes['test.version']).toBe('v1');
      writeFileSync(file, agentSource('v2'));
      await waitFor(() => r.err().includes('agent.ts changed: restarting the worker'), 10_000, 'restart logged');
      await waitFor(() => (r.err().match(/registered/g) ?? []).length >= 2, 20_000, `re-registered:\n${r.err()}`);
      const b = await joinRoom(uniq('dev'), uniq('u'), [{ agentName: name }]);
      const v2 = await waitFor(() => agentsIn(b).find((p) => p.attributes['test.version']), 20_000, 'v2 agent');
      expect(v2.attributes['test.version']).toBe('v2');
      await Promise.all([a.disconnect(), b.disconnect()]);
      // Readable logs: time, level, message; not JSON.
      expect(r.err()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}registered {2}workerId=AW_/m);
    } finally {
      r.child.kill('SIGINT');
      expect(await r.exit).toBe(0);
    }
  }, 90_000);

  it('connect --room joins that room without dispatch, and leaves on SIGINT', async () => {
    const roomName = uniq('connect');
    const r = cli(['connect', 'test/worker/agents/echoAgent.ts', '--room', roomName, '--participant-identity', 'agent-direct'], {
      LIVEKIT_URL: LK.url,
      LIVEKIT_API_KEY: LK.key,
      LIVEKIT_API_SECRET: LK.secret,
    });
    const user = await joinRoom(roomName);
    try {
      const agent = await waitFor(() => agentsIn(user).find((p) => p.attributes['test.job']), 30_000, `agent in ${roomName}:\n${r.err()}`);
      expect(agent.identity).toBe('agent-direct');
      expect(agent.attributes['test.room']).toBe(roomName);
      const claims = JSON.parse(agent.attributes['test.claims']!);
      expect(claims.kind).toBe('agent');
      expect(Object.entries(claims.video).filter(([, v]) => v === true).map(([k]) => k).sort()).toEqual(['agent', 'canPublish', 'canPublishData', 'canSubscribe', 'canUpdateOwnMetadata', 'roomJoin']);
      r.child.kill('SIGINT');
      expect(await r.exit).toBe(0);
      await waitFor(() => agentsIn(user).length === 0, 10_000, 'agent left');
      expect(r.err()).toContain('job ended: user requested');
    } finally {
      r.child.kill('SIGKILL');
      await user.disconnect();
    }
  }, 60_000);
});
