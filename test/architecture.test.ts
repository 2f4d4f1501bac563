/**
 * The design's promises that code review would otherwise have to check: the session files import no cycle (type-only
 * imports included), machines import nothing but XState and each other, no source file grows past ~400 lines, and a
 * session is one actor tree rooted at its session machine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHarness, useVirtualTime } from './helpers/harness.ts';

const root = resolve(import.meta.dirname, '..');
const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f);
    return statSync(join(root, p)).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
const importsOf = (file: string): string[] =>
  [...readFileSync(join(root, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);

describe('architecture', () => {
  it('the session files import no cycle, type-only imports included', () => {
    const files = filesUnder('src/session');
    const graph = new Map<string, string[]>();
    for (const f of files) {
      graph.set(
        f,
        importsOf(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => relative(root, resolve(root, dirname(f), s)))
          .filter((t) => t.startsWith('src/session/')),
      );
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') return void cycles.push([...stack.slice(stack.indexOf(f)), f].join(' → '));
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(files.length).toBeGreaterThan(10);
    expect(cycles).toEqual([]);
  });

  it('machines are pure: they import XState and each other only', () => {
    const bad = filesUnder('machines').flatMap((f) => importsOf(f).filter((s) => s !== 'xstate' && !/^\.\/[A-Za-z]+\.ts$/.test(s)).map((s) => `${f}: ${s}`));
    expect(bad).toEqual([]);
  });

  it('no source file is over 400 lines', () => {
    const long = ['machines', 'actors', 'src']
      .flatMap(filesUnder)
      .map((f) => [f, readFileSync(join(root, f), 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 401)
      .map(([f, n]) => `${f}: ${n}`);
    expect(long).toEqual([]);
  });
});

describe('one actor system per session', () => {
  beforeEach(useVirtualTime);
  afterEach(() => vi.useRealTimers());

  it('every actor of a session (activity, user turn, recognition, speeches, output channel) is under its session actor', async () => {
    const actors = new Map<string, AnyActorRef>();
    const inspect = (e: InspectionEvent) => {
      if (e.type === '@xstate.actor') actors.set((e.actorRef as AnyActorRef).sessionId, e.actorRef as AnyActorRef);
    };
    const h = await startHarness({
      utterances: [{ start: 0, end: 500, transcript: 'hi' }],
      llm: [{ input: 'hi', content: 'Hello.' }],
      session: { inspect },
    });
    await h.at(3000);
    const rootActor = (h.session as unknown as { _rootActor: AnyActorRef })._rootActor;
    const kinds = new Set<string>();
    for (const a of actors.values()) {
      let p: AnyActorRef | undefined = a;
      while (p?._parent) p = p._parent;
      expect(p, `actor ${a.id} is not under the session`).toBe(rootActor);
      expect(a.system).toBe(rootActor.system);
      kinds.add(((a as unknown as { logic: { id?: string } }).logic.id ?? a.id).replace(/#\d+$/, ''));
    }
    for (const k of ['session', 'activity', 'userTurn', 'speech', 'audioOutput']) expect(kinds).toContain(k);
    expect(rootActor.system.get('audioOutput')).toBeDefined();
    await h.session.close();
  });
});
