/** Inspectors on a whole session and over a local WebSocket (split from inspect.test.ts). */
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

/** A parent whose context holds RxJS objects and a cycle, with an observable child whose events carry audio. */

describe('inspecting a whole session', () => {
  afterEach(() => vi.useRealTimers());

  it('every event of a session (virtual time) becomes a JSON line; the state log follows the agent through a reply', async () => {
    useVirtualTime();
    let text = '';
    const sink = new PassThrough();
    sink.on('data', (c) => (text += c));
    const jsonl = jsonlInspector(sink);
    const changes = stateChangeLog();
    const h = await startHarness({
      utterances: [{ start: 0, end: 800, transcript: 'Hello' }],
      llm: [{ input: 'Hello', content: 'Hi there!' }],
      session: { inspect: combineInspectors(jsonl, changes).inspect },
    });
    await h.at(4000);
    await h.session.close();
    await jsonl.stop();
    const records = parseLines(text);
    expect(records.length).toBe(jsonl.lines);
    expect(jsonl.error).toBeUndefined();
    const machines = new Set(records.filter((r) => r.type === '@xstate.actor').map((r) => r.machine));
    for (const id of ['session', 'activity', 'userTurn', 'speech']) expect(machines).toContain(id);
    // Speech actors are named by their speech's id (their XState ids are reused slots).
    const speechPaths = new Set(records.filter((r) => r.type === '@xstate.actor' && r.machine === 'speech').map((r) => r.actor));
    expect([...speechPaths].every((p) => /(^|\/)activity\/speech_[0-9a-f]+$/.test(p)), [...speechPaths].join(', ')).toBe(true);
    const agent = changes.values('activity').map((v) => /agent\.(\w+)/.exec(v)?.[1]);
    const order = ['listening', 'thinking', 'speaking', 'listening'];
    let at = 0;
    for (const s of agent) if (s === order[at]) at++;
    expect(at, `agent states seen: ${agent.join(' → ')}`).toBe(order.length);
  });
});

describe('localWebSocketInspector', () => {
  /** Collects messages on a viewer socket; resolves `until` once the predicate holds. */
  async function viewer(url: string) {
    const ws = new WebSocket(url);
    const messages: Array<Record<string, any>> = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (d) => {
      messages.push(JSON.parse(d.toString()));
      for (const w of waiters.splice(0)) w();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const until = async (pred: (m: Array<Record<string, any>>) => boolean, label: string) => {
      const deadline = Date.now() + 3000;
      while (!pred(messages)) {
        if (Date.now() > deadline) throw new Error(`viewer never saw: ${label}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    };
    return { ws, messages, until };
  }

  it('relays inspection events in Stately format to loopback viewers, replaying live actors to late ones', async () => {
    const inspector = await localWebSocketInspector({ port: 0 });
    try {
      expect(inspector.viewerUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/);
      const early = await viewer(inspector.viewerUrl);
      const { machine, push } = makeObservableFixture();
      const actor = createActor(machine, { inspect: inspector.inspect });
      actor.start();
      push(1);
      const frames = actor.getSnapshot().context.frames; // the child's first snapshot counts too
      expect(frames).toBeGreaterThan(0);
      await early.until(
        (m) => m.some((x) => x.type === '@xstate.snapshot' && x.snapshot.context?.frames === frames),
        'snapshot after the first frame',
      );
      const registered = early.messages.filter((m) => m.type === '@xstate.actor');
      expect(registered.map((m) => m.name)).toContain('recorder');
      const root = registered.find((m) => m.name === 'recorder')!;
      const child = registered.find((m) => m.sessionId !== root.sessionId)!;
      expect(child.parentId).toBe(root.sessionId);
      expect(JSON.parse(root.definition).id).toBe('recorder');
      const snap = early.messages.find((m) => m.type === '@xstate.snapshot' && m.sessionId === root.sessionId && m.snapshot.context?.frames === frames)!;
      expect(snap.snapshot).toMatchObject({ status: 'active', value: 'listening', context: { stream: '[Subject]', cyclic: { self: '[Circular]' } } });
      const next = early.messages.find((m) => m.type === '@xstate.event' && m.event.type === 'xstate.observable.next')!;
      expect(next.event.data.pcm).toBe('[Int16Array(480)]');
      expect(next.sourceId).toBe(child.sessionId);

      // A viewer that connects now first gets the live actors and their latest state.
      const late = await viewer(inspector.viewerUrl);
      await late.until((m) => m.filter((x) => x.type === '@xstate.actor').length >= 2, 'replayed actors');
      await late.until((m) => m.some((x) => x.type === '@xstate.snapshot' && x.sessionId === root.sessionId), 'replayed snapshot');
      expect(late.messages.find((x) => x.type === '@xstate.snapshot' && x.sessionId === root.sessionId)!.snapshot.context.frames).toBe(frames);
      expect(inspector.viewerCount()).toBe(2);

      actor.send({ type: 'STOP' });
      await late.until((m) => m.some((x) => x.type === '@xstate.snapshot' && x.snapshot.value === 'stopped'), 'final state');

      const page = await fetch(inspector.pageUrl).then((r) => r.text());
      expect(page).toContain('voicechart inspector');
      expect(page).toContain('needs internet');
      early.ws.close();
      late.ws.close();
    } finally {
      await inspector.stop();
    }
    // Stopped means the port is free again.
    await expect(fetch(inspector.pageUrl)).rejects.toThrow();
  });

  it('gives a clear error when the port is taken, and the relay survives malformed publishers', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(localWebSocketInspector({ port })).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }

    const relay = await startInspectionRelay({ port: 0 });
    try {
      const v = await viewer(relay.viewerUrl);
      const other = await viewer(relay.viewerUrl);
      const pub = new WebSocket(relay.publishUrl);
      await new Promise((r) => pub.once('open', r));
      pub.send('{not json');
      pub.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:1', event: { type: 'PING' } }));
      await v.until((m) => m.some((x) => x.event?.type === 'PING'), 'the valid message after a malformed one');
      expect(relay.malformedCount()).toBe(1);
      expect(v.messages).toHaveLength(1); // the malformed one was not passed on

      // Viewers cannot publish: the ping/pong round trip guarantees the relay has read the viewer's message.
      v.ws.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:2', event: { type: 'FROM_VIEWER' } }));
      await new Promise((r) => {
        v.ws.once('pong', r);
        v.ws.ping();
      });
      pub.send(JSON.stringify({ type: '@xstate.event', sessionId: 'x:1', event: { type: 'PONG' } }));
      await other.until((m) => m.some((x) => x.event?.type === 'PONG'), 'the publisher message after the viewer one');
      expect(other.messages.map((x) => x.event.type)).toEqual(['PING', 'PONG']);
      pub.close();
      v.ws.close();
      other.ws.close();
    } finally {
      await relay.close();
    }
  });
});

// Keeps the InspectionEvent import honest: inspect callbacks are typed by XState.
export type _Checked = (e: InspectionEvent) => void;
