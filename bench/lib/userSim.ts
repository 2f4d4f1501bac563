/**
 * The rooms bench's users: the Go simulator of bench/usersim (pre-encoded Opus, a few ms of CPU per user-second),
 * built once into the cache like the LiveKit server (scripts/livekit-server.sh), or, without Go, the rtc-node users
 * of bench/lib/roomUsers.ts (~30 ms per user-second, which the agent then shares its cores with).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const SIM_DIR = new URL('../usersim/', import.meta.url).pathname;
const UTTERANCE_OPUS = new URL('../../test/fixtures/utterance-a-16k.opus', import.meta.url).pathname;

export type UserSimKind = 'go' | 'rtc-node';

/** The binary for the simulator's current sources (a hash of them names it); built when missing. Throws without Go. */
export function userSimBinary(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(SIM_DIR).filter((f) => /\.(go|mod|sum)$/.test(f)).sort()) h.update(f).update(readFileSync(join(SIM_DIR, f)));
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cache, 'voicechart', `usersim-${h.digest('hex').slice(0, 12)}`);
  const bin = join(dir, 'usersim');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`bench: building the Go user simulator into ${dir} (once)...\n`);
  execFileSync('go', ['build', '-buildvcs=false', '-o', bin, '.'], { cwd: SIM_DIR, env: { ...process.env, CGO_ENABLED: '0' }, stdio: ['ignore', 'inherit', 'inherit'] });
  return bin;
}

/** Whether the go command is installed (the simulator is built with it). */
export function hasGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Go, unless VC_BENCH_ROOM_USERS=rtc-node or Go is not installed. */
export function userSimKind(): UserSimKind {
  return process.env.VC_BENCH_ROOM_USERS !== 'rtc-node' && hasGo() ? 'go' : 'rtc-node';
}

/**
 * Starts `count` users in rooms `<prefix>-<i>`. Both kinds print "ready" once all have joined and published, and
 * "heard <i>" when user i hears a reply. Proxy variables are dropped: the server is on an address of the machine.
 */
export function spawnUsers(kind: UserSimKind, prefix: string, count: number, nodeArgs: string[] = [], agentName?: string): ChildProcess {
  const env = { ...process.env };
  // Go users only: each room's token dispatches this agent (a worker's explicit dispatch).
  if (agentName) env.USERSIM_AGENT_NAME = agentName;
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete env[k];
  const stdio: ['ignore', 'pipe', 'inherit'] = ['ignore', 'pipe', 'inherit'];
  if (kind === 'go') return spawn(userSimBinary(), [prefix, String(count), UTTERANCE_OPUS], { env, stdio });
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', new URL('./roomUsers.ts', import.meta.url).pathname, prefix, String(count)], { env, stdio });
}

/**
 * Resolves once the users print "ready" (rejects if their process exits first); `onHeard(i)` gets each "heard <i>",
 * `onAttribute` each attribute of room i's agent (Go users only).
 */
export function usersReady(child: ChildProcess, onHeard: (user: number) => void, onAttribute?: (user: number, key: string, value: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') resolve();
        else if (l.startsWith('heard ')) onHeard(Number(l.slice(6)));
        else if (l.startsWith('attr ')) {
          const [, i, key, ...value] = l.split(' ');
          onAttribute?.(Number(i), key!, value.join(' '));
        }
      }
    });
    child.once('exit', (c) => reject(new Error(`users process exited (${c})`)));
  });
}

/** Stops the users' process and waits for it; one that already exited (it said why on stderr) has no exit left to wait for. */
export async function stopUsers(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
