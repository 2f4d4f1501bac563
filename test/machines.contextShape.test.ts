/**
 * The per-turn machines' contexts stay fast V8 objects. XState's `assign` builds each new context with
 * `Object.assign({}, context, update)`; V8 turns an object built that way into a dictionary ("slow properties")
 * object once it has about 20 fields, and then every assign and every guard reading the context costs several times
 * more: the warm end of turn → first frame latency of the core bench rose by half when the activity and user-turn
 * contexts crossed the limit. A probe process (natives syntax) reports what V8 made of each context after a turn.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./helpers/contextShapeProbe.ts', import.meta.url));

describe('machine contexts', () => {
  it('stay fast (non-dictionary) objects through a turn, unlike an over-wide context copied the same way', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', probe], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const shapes = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, { fields: number; fast: boolean }>;
    // The probe sees the difference: the same copying makes a wide object slow.
    expect(shapes.control!.fast).toBe(false);
    for (const name of ['activity', 'userTurn', 'session', 'speech']) {
      expect(shapes[name]!.fast, `${name} context (${shapes[name]!.fields} fields) became a dictionary object`).toBe(true);
    }
  }, 90_000);
});
