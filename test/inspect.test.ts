import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Subject, interval, map, take } from 'rxjs';
import { WebSocket } from 'ws';
import { assign, createActor, fromObservable, setup, type AnyActorRef, type InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  combineInspectors,
  DROPPED_LINES_TYPE,
  formatStateValue,
  jsonlInspector,
  localWebSocketInspector,
  startInspectionRelay,
  stateChangeLog,
  toSafeJson,
  type Inspector,
} from '../src/inspect/index.ts';
import { startHarness, useVirtualTime } from './helpers/harness.ts';
import { makeObservableFixture, parseLines } from './helpers/inspectFixtures.ts';

describe('toSafeJson', () => {
  it('turns circular graphs, RxJS objects, actors, buffers and odd values into bounded JSON', () => {
    const subject = new Subject<number>();
    const subscription = interval(1000).subscribe();
    subscription.unsubscribe();
    const actor = createActor(setup({}).createMachine({ id: 'tiny' }), { id: 'tiny-1' });
    const node: Record<string, unknown> = { subject, subscription, actor, pcm: new Float32Array(960), raw: new ArrayBuffer(16) };
    node.self = node;
    node.pair = [node, { back: node }];
    const input = {
      node,
      big: 12n,
      nan: NaN,
      fn: function greet() {},
      err: Object.assign(new Error('boom'), { code: 'E_X' }),
      when: new Date(0),
      map: new Map([['a', 1]]),
      set: new Set([1, 2]),
      long: 'x'.repeat(50),
      many: Array.from({ length: 10 }, (_, i) => i),
      deep: { a: { b: { c: { d: 'too deep' } } } },
      skip: undefined,
      get broken(): never {
        throw new Error('getter failed');
      },
    };
    expect(() => JSON.stringify(input)).toThrow(); // the raw value really is unserialisable
    const out = toSafeJson(input, { maxString: 10, maxArray: 4, maxDepth: 4 }) as Record<string, any>;
    expect(() => JSON.stringify(out)).not.toThrow();
    expect(out.node).toMatchObject({
      subject: '[Subject]',
      actor: '[Actor tiny-1]',
      pcm: '[Float32Array(960)]',
      raw: '[ArrayBuffer(16 bytes)]',
      self: '[Circular]',
      pair: ['[Circular]', { back: '[Circular]' }],
    });
    expect(out.node.subscription).toMatch(/^\[\w+\]$/);
    expect(out).toMatchObject({
      big: '12n',
      nan: 'NaN',
      fn: '[Function greet]',
      err: { name: 'Error', message: 'boom', code: 'E_X' },
      when: '1970-01-01T00:00:00.000Z',
      map: { a: 1 },
      set: [1, 2],
      long: 'xxxxxxxxxx…(+40 chars)',
      many: [0, 1, 2, 3, '…(+6 items)'],
      deep: { a: { b: { c: '[Object]' } } },
      broken: '[Getter th…(+19 chars)', // the message is cut like any long string
    });
    expect('skip' in out).toBe(false);
  });

  it('does not call an object seen twice side by side circular', () => {
    const shared = { v: 1 };
    expect(toSafeJson({ a: shared, b: shared })).toEqual({ a: { v: 1 }, b: { v: 1 } });
  });
});

describe('jsonlInspector', () => {
  it('logs an actor with an RxJS fromObservable child as parseable lines, one per event', async () => {
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (c) => (text += c));
    const log = jsonlInspector(sink);
    const { machine, push } = makeObservableFixture();
    const actor = createActor(machine, { inspect: log.inspect });
    // The raw inspection snapshots are what would crash a naive logger.
    let rawSnapshotThrows = false;
    const probe = createActor(machine, {
      inspect: (ev) => {
        if (ev.type === '@xstate.snapshot' && ev.actorRef === probe) {
          try {
            JSON.stringify(ev.snapshot);
          } catch {
            rawSnapshotThrows = true;
          }
        }
      },
    });
    probe.start();
    probe.stop();
    expect(rawSnapshotThrows).toBe(true);

    actor.start();
    push(1);
    push(2);
    push(3); // take(3) completes the child → draining
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('stopped');
    await log.stop();

    const records = parseLines(text);
    expect(records.length).toBe(log.lines);
    expect(log.dropped).toBe(0);
    const actors = records.filter((r) => r.type === '@xstate.actor');
    expect(actors.map((r) => r.actor)).toEqual(['recorder', 'recorder/mic']);
    expect(actors[1]!.parent).toBe(actors[0]!.sessionId);
    expect(actors[0]!.machine).toBe('recorder');
    const values = records.filter((r) => r.type === '@xstate.snapshot' && r.actor === 'recorder').map((r) => r.value);
    expect(values).toContain('listening');
    expect(values).toContain('draining');
    expect(values.at(-1)).toBe('stopped');
    const childNext = records.find((r) => r.type === '@xstate.event' && r.actor === 'recorder/mic' && r.event.type === 'xstate.observable.next');
    expect(childNext?.event.data).toEqual({ pcm: '[Int16Array(480)]', n: 1 });
    const done = records.find((r) => r.type === '@xstate.snapshot' && r.actor === 'recorder' && r.status === 'done');
    expect(done).toBeDefined();
    expect(records.some((r) => r.type === '@xstate.microstep' && r.transitions?.[0]?.source === 'recorder.listening')).toBe(true);
    for (const r of records) expect(typeof r.t).toBe('number');
  });

  it('writes to a file path, keeps only the chosen event types, and includes context only when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'voicechart-inspect-'));
    try {
      const file = join(dir, 'trace.jsonl');
      const log = jsonlInspector(file, { types: ['@xstate.snapshot'], context: true });
      const { machine, push } = makeObservableFixture();
      const actor = createActor(machine, { inspect: log.inspect });
      actor.start();
      push(1);
      actor.send({ type: 'STOP' });
      await log.stop();
      const records = parseLines(readFileSync(file, 'utf8'));
      expect(records.length).toBeGreaterThan(2);
      expect(new Set(records.map((r) => r.type))).toEqual(new Set(['@xstate.snapshot']));
      const last = records.filter((r) => r.actor === 'recorder').at(-1)!;
      expect(last.value).toBe('stopped');
      expect(last.context).toEqual({ stream: '[Subject]', cyclic: { name: 'loop', self: '[Circular]' }, frames: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a failing stream is reported and stops the log, but never breaks the actor', async () => {
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    const errors: Error[] = [];
    const log = jsonlInspector(failing, { onError: (e) => errors.push(e) });
    const { machine, push } = makeObservableFixture();
    const actor = createActor(machine, { inspect: log.inspect });
    actor.start();
    await new Promise((r) => setImmediate(r)); // let the stream report its write error
    push(1);
    push(2);
    push(3);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(errors.map((e) => e.message)).toEqual(['disk full']);
    expect(log.dropped).toBeGreaterThan(0);
    await expect(log.stop()).rejects.toThrow(/inspection log incomplete: disk full/);
  });

  it('a slow stream makes it drop lines instead of buffering without bound, and says so at the end', async () => {
    const held: Array<() => void> = [];
    let text = '';
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk, _enc, cb) {
        text += chunk;
        held.push(() => cb());
      },
    });
    const log = jsonlInspector(slow, { maxBufferedBytes: 1000 });
    const { machine, push } = makeObservableFixture();
    createActor(machine, { inspect: log.inspect }).start();
    push(1);
    push(2);
    expect(log.dropped).toBeGreaterThan(0);
    // The stream catches up.
    while (held.length) {
      held.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    const dropped = log.dropped;
    await log.stop();
    const records = parseLines(text);
    expect(records.at(-1)).toMatchObject({ type: DROPPED_LINES_TYPE, count: dropped });
    expect(records.length).toBe(log.lines + 1);
  });
});

describe('stateChangeLog', () => {
  afterEach(() => vi.useRealTimers());

  it('records each state change of machine actors with its virtual time, skipping context-only updates', async () => {
    vi.useFakeTimers({ now: 0 });
    const changes = stateChangeLog();
    const printed: string[] = [];
    const withPrint = stateChangeLog({ onChange: (c) => printed.push(`${c.t} ${c.actor}`) });
    const { machine, push } = makeObservableFixture();
    const actor = createActor(machine, { inspect: combineInspectors(changes, withPrint).inspect });
    actor.start();
    push(1); // context-only update: frames 0 → 1
    vi.advanceTimersByTime(40);
    push(2);
    push(3); // child completes → draining
    await vi.advanceTimersByTimeAsync(100); // grace delay → stopped
    expect(changes.values('recorder')).toEqual(['listening', 'draining', 'stopped']);
    expect(changes.of('recorder').map((c) => c.t)).toEqual([0, 40, 140]);
    expect(changes.of('recorder').map((c) => c.status)).toEqual(['active', 'active', 'done']);
    expect(changes.of('recorder').map((c) => c.event)).toEqual(['xstate.init', 'xstate.done.actor.mic', 'xstate.after.grace.recorder.draining']);
    // The observable child has no state value to chart.
    expect(changes.changes.every((c) => c.actor === 'recorder')).toBe(true);
    expect(printed).toEqual(['0 recorder', '40 recorder', '140 recorder']);
    await changes.stop();
  });

  it('names child machines by path, formats parallel values and respects its limit', () => {
    const child = setup({}).createMachine({ id: 'light', initial: 'red', states: { red: { on: { NEXT: 'green' } }, green: {} } });
    const parent = setup({ actors: { light: child } }).createMachine({
      id: 'junction',
      type: 'parallel',
      states: {
        north: { initial: 'waiting', states: { waiting: { on: { GO: 'moving' } }, moving: {} }, invoke: { src: 'light', id: 'signal' } },
        south: { initial: 'waiting', states: { waiting: {} } },
      },
    });
    const log = stateChangeLog({ limit: 3 });
    const actor = createActor(parent, { inspect: log.inspect }).start();
    (actor.getSnapshot().children as Record<string, AnyActorRef>).signal!.send({ type: 'NEXT' });
    actor.send({ type: 'GO' });
    expect(log.changes.map((c) => `${c.actor}: ${formatStateValue(c.value)}`)).toEqual([
      'junction: {north.waiting, south.waiting}',
      'junction/signal: green',
      'junction: {north.moving, south.waiting}',
    ]);
    expect(log.dropped).toBe(1); // the signal's first state, red
    expect(log.values('signal')).toEqual(['green']);
    expect(log.values('light')).toEqual(['green']);
  });
});

describe('combineInspectors', () => {
  it('keeps feeding the other inspectors when a foreign one throws', async () => {
    const log = stateChangeLog();
    const throwing: Inspector = {
      inspect: () => {
        throw new Error('bad inspector');
      },
      stop: async () => {},
    };
    const { machine } = makeObservableFixture();
    const actor = createActor(machine, { inspect: combineInspectors(throwing, log).inspect }).start();
    actor.send({ type: 'STOP' });
    expect(log.values('recorder')).toEqual(['listening', 'stopped']);
  });
});
