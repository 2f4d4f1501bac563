/**
 * What a job process loads: an agent imports `voicechart/worker` (defineAgent), the job process runs the job
 * runner, but neither `@livekit/protocol` nor `livekit-server-sdk` may load until something reads `ctx.job.raw`
 * (~8 MB per process, protocol.ts). Checked in a fresh Node process, listing every ESM module it resolved and
 * every CommonJS module in its require cache.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/worker/', import.meta.url));
// Runs in the hooks thread: reports every resolved module URL on stderr.
const HOOK = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('resolved ' + r.url + '\\n'); return r; }`;
const PROBE = `
import { register, createRequire } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));
await import(${JSON.stringify(`${SRC}index.ts`)});
await import(${JSON.stringify(`${SRC}jobRunner.ts`)});
const { jobInfoFromPlain } = await import(${JSON.stringify(`${SRC}jobInfo.ts`)});
const cjs = () => Object.keys(createRequire(import.meta.url).cache);
const plain = { id: 'AJ_1', dispatchId: '', metadata: '', agentName: '', type: 'room', room: { name: 'r', sid: '' }, participant: null, attributes: {} };
const info = jobInfoFromPlain(plain, { id: 'AJ_1', room: { name: 'r' } });
process.stdout.write(JSON.stringify({ room: info.room.name, before: cjs() }) + '\\n');
process.stdout.write(JSON.stringify({ rawId: info.raw.id, after: cjs() }) + '\\n');
`;

describe('job process imports', () => {
  it('an agent and the job runner load no @livekit/protocol or livekit-server-sdk until ctx.job.raw is read', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const [first, second] = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const esm = run.stderr.split('\n').filter((l) => l.startsWith('resolved ')).map((l) => l.slice('resolved '.length));
    expect(first.room).toBe('r');
    const heavy = (files: string[]) => files.filter((f) => /node_modules\/(@livekit\/protocol|livekit-server-sdk)\//.test(f));
    // The agent side did load (rtc-node, the job runner): the lists are not empty by accident.
    expect(esm.some((u) => u.includes('@livekit/rtc-node'))).toBe(true);
    expect(heavy(esm)).toEqual([]);
    expect(heavy(first.before)).toEqual([]);
    // The probe sees a load when there is one: reading raw decodes the job with the CommonJS build.
    expect(second.rawId).toBe('AJ_1');
    expect(heavy(second.after).length).toBeGreaterThan(0);
  });
});
