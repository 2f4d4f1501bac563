import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { and, not, setup, stateIn } from 'xstate';
import { describe, expect, it } from 'vitest';
import { indexPage, renderAll, VIS_DIR } from '../scripts/diagrams.ts';
import { guardLabel, toMermaid } from '../src/diagram/mermaid.ts';

describe('committed diagrams', () => {
  const files = renderAll();
  for (const [file, text] of files) {
    it(`visualizations/${file} is up to date`, () => {
      const path = join(VIS_DIR, file);
      expect(existsSync(path), `${file} is missing: run npm run visualize`).toBe(true);
      expect(readFileSync(path, 'utf8'), `${file} is stale: run npm run visualize`).toBe(text);
    });
  }
  it('no diagram of a removed machine is left, and the index is current', () => {
    const onDisk = readdirSync(VIS_DIR).filter((f) => f.endsWith('.mmd')).sort();
    expect(onDisk).toEqual([...files.keys()].sort());
    expect(readFileSync(join(VIS_DIR, 'README.md'), 'utf8')).toBe(indexPage(files));
  });
});

describe('toMermaid', () => {
  const fixture = setup({
    types: { events: {} as { type: 'GO' } | { type: 'STOP' } | { type: 'PING' } },
    guards: { ready: () => true, busy: () => false },
    actions: { log: () => {}, count: () => {} },
    delays: { patience: 1000 },
  }).createMachine({
    id: 'fixture',
    initial: 'idle',
    on: { STOP: '.done', PING: { actions: 'log' } },
    states: {
      idle: { on: { GO: { guard: and(['ready', not('busy')]), target: 'working', actions: ['log', 'count'] } } },
      working: {
        type: 'parallel',
        states: {
          a: { initial: 'x', states: { x: { after: { 500: 'y' } }, y: { after: { patience: 'x' } } } },
          b: { initial: 'p', states: { p: { always: { guard: stateIn('#fixture.working.a.y'), target: 'q' } }, q: { tags: ['visible'] } } },
        },
      },
      done: { type: 'final' },
    },
  });
  const text = toMermaid(fixture);

  it('draws guarded transitions with their actions', () => {
    expect(text).toContain('s_idle --> s_working : GO [ready && !busy] / log, count');
  });
  it('separates parallel regions and draws nested initial states', () => {
    expect(text).toMatch(/state "working" as s_working \{\n\s+state "a" as s_working__a \{\n\s+\[\*\] --> s_working__a__x/);
    expect(text).toMatch(/\n\s+--\n\s+state "b" as s_working__b/);
  });
  it('labels after edges by delay (ms or name) and always edges with their guard', () => {
    expect(text).toContain('s_working__a__x --> s_working__a__y : after 500ms');
    expect(text).toContain('s_working__a__y --> s_working__a__x : after patience');
    expect(text).toContain('s_working__b__p --> s_working__b__q : always [in #fixture.working.a.y]');
  });
  it('fans root transitions out of every non-final state and notes targetless ones', () => {
    expect(text).toContain('s_idle --> s_done : STOP');
    expect(text).toContain('s_working --> s_done : STOP');
    expect(text).not.toContain('s_done --> s_done');
    expect(text).toMatch(/note left of s_idle\n\s+in any state:\n\s+PING \/ log/);
    expect(text).toContain('s_done --> [*]');
    expect(text).toMatch(/note right of s_working__b__q\n\s+tags visible/);
  });
  it('spells out composite guards', () => {
    expect(guardLabel(and(['a', not(and(['b', 'c']))]))).toBe('a && !(b && c)');
  });
});

describe('toMermaid: a transition into several regions', () => {
  it('is drawn as one labelled edge into a fork, then one unlabelled edge per target', () => {
    const m = setup({}).createMachine({
      id: 'multi',
      type: 'parallel',
      states: {
        a: { initial: 'a1', states: { a1: { on: { GO: { target: ['a2', '#multi.b.b2'] } } }, a2: {} } },
        b: { initial: 'b1', states: { b1: {}, b2: {} } },
      },
    });
    const text = toMermaid(m);
    const labelled = text.split('\n').filter((l) => l.includes(': GO'));
    expect(labelled).toHaveLength(1);
    const fork = labelled[0]!.trim().split(' --> ')[1]!.split(' : ')[0]!;
    expect(text).toContain(`state ${fork} <<fork>>`);
    const fromFork = text.split('\n').filter((l) => l.trim().startsWith(`${fork} --> `));
    expect(fromFork).toHaveLength(2);
  });
});
