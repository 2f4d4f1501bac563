/**
 * The routed native bridge (src/room/ffiClient.ts) on the real LiveKit server: log capture is off, each room sees
 * only its own room events, each audio stream only its own frames, and request waiters still get their callbacks.
 */
import { AudioStream, Room, RoomEvent, TrackKind, type RemoteTrack } from '@livekit/rtc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { RoutedFfiClient } from '../../src/room/ffiClient.ts';
import { join, liveKitEnv, Microphone, uniqueRoom, until } from './helpers/livekit.ts';

const env = liveKitEnv();

describe('the routed bridge without a server (fake native bindings)', () => {
  it("offers request waiters every event but streams' frames, and resolves them with their callback", async () => {
    let deliver: (data: Uint8Array) => void = () => undefined;
    const events: Ev[] = [];
    const bindings = {
      livekitInitialize: (cb: (d: Uint8Array) => void) => void (deliver = cb),
      FfiEvent: { fromBinary: (d: Uint8Array) => events[d[0]!]! },
    };
    const client = new RoutedFfiClient(bindings as never, '0');
    const send = (ev: Ev) => deliver(Uint8Array.of(events.push(ev) - 1));
    const offered: string[] = [];
    const all: string[] = [];
    client.on('ffi_event', (ev: Ev) => all.push(ev.message.case ?? ''));
    const waited = client.waitFor<{ asyncId: bigint }>((ev) => {
      offered.push(ev.message.case ?? '');
      return ev.message.case === 'captureAudioFrame' && (ev.message.value as { asyncId?: bigint }).asyncId === 7n;
    });
    send({ message: { case: 'audioStreamEvent', value: { streamHandle: 1n } } });
    send({ message: { case: 'videoStreamEvent', value: { streamHandle: 2n } } });
    send({ message: { case: 'captureAudioFrame', value: { asyncId: 6n } as never } });
    send({ message: { case: 'audioStreamEvent', value: { streamHandle: 1n } } });
    send({ message: { case: 'captureAudioFrame', value: { asyncId: 7n } as never } });
    expect(await waited).toEqual({ asyncId: 7n });
    expect(offered).toEqual(['captureAudioFrame', 'captureAudioFrame']);
    // Once answered, a waiter is offered nothing more; ordinary listeners still get every event.
    send({ message: { case: 'captureAudioFrame', value: { asyncId: 7n } as never } });
    expect(offered).toHaveLength(2);
    expect(all).toEqual(['audioStreamEvent', 'videoStreamEvent', 'captureAudioFrame', 'audioStreamEvent', 'captureAudioFrame', 'captureAudioFrame']);
  });
});
type Ev = { message: { case?: string; value?: { roomHandle?: bigint; streamHandle?: bigint } } };

/**
 * Records what reaches a connected room's event processing (the step after the routed client's delivery). Events a
 * room queued while it was still connecting are left out: until it knows its handle it is given every room event,
 * and it drops the others' itself.
 */
function spyRoom(room: Room): Ev[] {
  const seen: Ev[] = [];
  const r = room as unknown as { processFfiEvent: (ev: Ev) => Promise<void>; preConnectEvents: Ev[] };
  const queuedWhileConnecting = new Set(r.preConnectEvents);
  const orig = r.processFfiEvent;
  r.processFfiEvent = (ev: Ev) => {
    if (!queuedWhileConnecting.has(ev)) seen.push(ev);
    return orig(ev);
  };
  return seen;
}
const handleOf = (room: Room) => (room as unknown as { ffiHandle?: { handle: bigint } }).ffiHandle?.handle;

describe.skipIf(!env)('the routed LiveKit native bridge', () => {
  const rooms: Room[] = [];
  afterAll(async () => {
    for (const r of rooms) await r.disconnect().catch(() => undefined);
  });

  it('is the bridge rtc-node uses, without log capture, and routes room and stream events to their owners', async () => {
    const a = await join(env!, uniqueRoom('ffi-a'), 'agent-a', { kind: 'agent' });
    const b = await join(env!, uniqueRoom('ffi-b'), 'agent-b', { kind: 'agent' });
    rooms.push(a, b);
    const client = (globalThis as { _ffiClientInstance?: unknown })._ffiClientInstance;
    expect(client).toBeInstanceOf(RoutedFfiClient);
    const all: string[] = [];
    const anyListener = (ev: Ev) => all.push(ev.message.case ?? '');
    (client as RoutedFfiClient).on('ffi_event', anyListener);
    const seenA = spyRoom(a);
    const seenB = spyRoom(b);
    // A user speaks in each room; each agent subscribes its user's track.
    const userA = await join(env!, a.name!, 'user-a');
    const userB = await join(env!, b.name!, 'user-b');
    rooms.push(userA, userB);
    const micA = await Microphone.publish(userA);
    const micB = await Microphone.publish(userB);
    const frames = new Map<string, number>();
    const listen = (room: Room, key: string) =>
      room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
        if (track.kind !== TrackKind.KIND_AUDIO) return;
        void (async () => {
          const reader = new AudioStream(track, { sampleRate: 16000, numChannels: 1, frameSizeMs: 20 }).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            expect(value.sampleRate).toBe(16000);
            frames.set(key, (frames.get(key) ?? 0) + 1);
          }
        })();
      });
    listen(a, 'a');
    listen(b, 'b');
    await until(() => (frames.get('a') ?? 0) > 50 && (frames.get('b') ?? 0) > 50, 15_000, 'audio in both rooms');
    await micA.stop();
    await micB.stop();
    (client as RoutedFfiClient).off('ffi_event', anyListener);

    // Rust's log records never cross over (rtc-node's own client forwards ~1,600 a second per connected pair).
    expect(all).not.toContain('logs');
    // Each room got room events, and only its own; no stream frames or request callbacks.
    for (const [seen, room] of [
      [seenA, a],
      [seenB, b],
    ] as const) {
      expect(seen.length).toBeGreaterThan(0);
      for (const ev of seen) expect(['roomEvent', 'rpcMethodInvocation']).toContain(ev.message.case);
      for (const ev of seen.filter((e) => e.message.case === 'roomEvent')) expect(ev.message.value?.roomHandle).toBe(handleOf(room));
    }
    // Ordinary listeners still see every kind (streams' frames included), as with rtc-node's own client.
    expect(all).toContain('audioStreamEvent');
    expect(all).toContain('roomEvent');
  }, 40_000);
});
