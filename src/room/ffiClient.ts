import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The process-wide bridge to LiveKit's native client, installed before `@livekit/rtc-node` makes its own.
 *
 * Why: rtc-node 1.1 initialises the native library with log capture on, which forwards every Rust and libwebrtc log
 * record (debug level included: ~1,600 records a second per connected pair, measured) to JavaScript as an event that
 * is decoded and handed to every Room and every stream of the process. With ten rooms that was 2,600 events a second,
 * each taking every Room's mutex: a cost that grows with rooms², and the largest part of a room's CPU. Here capture
 * is off (Rust logs go to stderr through RUST_LOG, errors only by default), and each event goes only to the
 * listeners that can want it: stream events to the streams, room events to the rooms.
 *
 * The object keeps rtc-node's FfiClient contract (an EventEmitter of `ffi_event`, `request`, `copyBuffer`,
 * `retrievePtr`, `getNextRequestAsyncId`, `waitFor`); rtc-node finds it under the global name it looks up first.
 */

interface FfiMessage {
  message: { case?: string; value?: unknown };
}
interface Bindings {
  livekitInitialize(cb: (data: Uint8Array) => void, captureLogs: boolean, sdkVersion: string): void;
  livekitFfiRequest(data: Uint8Array): Uint8Array;
  livekitCopyBuffer(ptr: bigint, len: number): Uint8Array;
  livekitRetrievePtr(data: Uint8Array): bigint;
  FfiEvent: { fromBinary(data: Uint8Array): FfiMessage };
  FfiRequest: new (req: unknown) => { toBinary(): Uint8Array };
  FfiResponse: { fromBinary(data: Uint8Array): FfiMessage };
}

const EVENT = 'ffi_event';
type Listener = (ev: FfiMessage) => void;
interface RoomLike {
  onFfiEvent?: unknown;
  ffiHandle?: { handle: bigint };
}

/** Rooms whose listener is known (see `routeRoomEvents`): their room events go to them alone. */
const roomOfListener = new WeakMap<Listener, RoomLike>();

/**
 * rtc-node's listeners are anonymous arrows (`this.onFfiEvent = async (ev) => …`), so they are told apart by what
 * their code reads: a Room's queues events until connected (`preConnectEvents`); a stream's reads only its kind of
 * stream event. Anything else (request waiters, unknown listeners) stays an ordinary listener of every event.
 */
function kindOf(l: Listener): 'room' | 'stream' | 'any' {
  if (roomOfListener.has(l)) return 'room';
  const code = Function.prototype.toString.call(l);
  if (code.includes('preConnectEvents')) return 'room';
  if (/\b(audio|video)StreamEvent\b/.test(code) && !code.includes('roomEvent')) return 'stream';
  return 'any';
}

const streamHandleOf = (res: unknown): bigint | undefined => (res as { stream?: { handle?: { id?: bigint } } })?.stream?.handle?.id;

export class RoutedFfiClient extends EventEmitter {
  private nextAsyncId = 0n;
  private readonly rooms = new Set<Listener>();
  /** Each stream's listener by its native handle: a frame goes to its stream alone. */
  private readonly streams = new Map<bigint, Listener>();
  private readonly streamHandles = new Map<Listener, bigint>();
  /** Stream listeners whose handle is unknown: they get every stream event, as rtc-node would give them. */
  private readonly unboundStreams = new Set<Listener>();
  /** The handle of the stream just created: its listener is added right after (synchronously, in its constructor). */
  private newStreamHandle: bigint | undefined;
  /**
   * `waitFor`'s pending predicates (a capture's callback, a publish's, …). None waits for a stream's frame, so
   * frames are not offered to them: with many rooms speaking that was every waiter tested against every frame.
   */
  private readonly waiters = new Set<Listener>();

  constructor(private readonly b: Bindings, sdkVersion: string) {
    super();
    this.setMaxListeners(0);
    b.livekitInitialize((data) => this.dispatch(b.FfiEvent.fromBinary(data)), false, sdkVersion);
  }

  override on(event: string | symbol, l: (...args: any[]) => void): this {
    if (event !== EVENT) return super.on(event, l);
    const kind = kindOf(l as Listener);
    if (kind === 'room') this.rooms.add(l as Listener);
    else if (kind === 'stream') {
      const h = this.newStreamHandle;
      this.newStreamHandle = undefined;
      if (h === undefined) this.unboundStreams.add(l as Listener);
      else {
        this.streams.set(h, l as Listener);
        this.streamHandles.set(l as Listener, h);
      }
    } else super.on(event, l);
    return this;
  }

  override addListener(event: string | symbol, l: (...args: any[]) => void): this {
    return this.on(event, l);
  }

  override off(event: string | symbol, l: (...args: any[]) => void): this {
    if (event !== EVENT) return super.off(event, l);
    const h = this.streamHandles.get(l as Listener);
    if (h !== undefined) {
      this.streamHandles.delete(l as Listener);
      if (this.streams.get(h) === l) this.streams.delete(h);
    }
    this.rooms.delete(l as Listener);
    this.unboundStreams.delete(l as Listener);
    return super.off(event, l);
  }

  override removeListener(event: string | symbol, l: (...args: any[]) => void): this {
    return this.off(event, l);
  }

  /**
   * A frame reaches its stream, a room event its room (any room whose handle is not known yet: it queues events
   * until connected), everything but frames the request waiters, and everything the ordinary listeners: each
   * listener would otherwise look at every event, a Room after taking its lock.
   */
  private dispatch(ev: FfiMessage): void {
    const kind = ev.message.case;
    if (kind === 'audioStreamEvent' || kind === 'videoStreamEvent') {
      const own = this.streams.get((ev.message.value as { streamHandle?: bigint }).streamHandle ?? -1n);
      if (own) own.call(this, ev);
      if (this.unboundStreams.size) for (const l of [...this.unboundStreams]) l.call(this, ev);
      this.emit(EVENT, ev);
      return;
    }
    if (kind === 'roomEvent' || kind === 'rpcMethodInvocation') {
      const handle = kind === 'roomEvent' ? (ev.message.value as { roomHandle?: bigint }).roomHandle : undefined;
      for (const l of [...this.rooms]) {
        const mine = roomOfListener.get(l)?.ffiHandle?.handle;
        if (handle === undefined || mine === undefined || mine === handle) l.call(this, ev);
      }
    }
    if (this.waiters.size) for (const l of [...this.waiters]) l.call(this, ev);
    this.emit(EVENT, ev);
  }

  request<T>(req: unknown): T {
    // Only a listener added right after its stream's creation, with no request between, is bound to the handle.
    this.newStreamHandle = undefined;
    const res = this.b.FfiResponse.fromBinary(this.b.livekitFfiRequest(new this.b.FfiRequest(req).toBinary()));
    const kind = res.message.case;
    if (kind === 'newAudioStream' || kind === 'newVideoStream') this.newStreamHandle = streamHandleOf(res.message.value);
    return res.message.value as T;
  }

  copyBuffer(ptr: bigint, len: number): Uint8Array {
    return this.b.livekitCopyBuffer(ptr, len);
  }

  retrievePtr(data: Uint8Array): bigint {
    return this.b.livekitRetrievePtr(data);
  }

  getNextRequestAsyncId(): bigint {
    return ++this.nextAsyncId;
  }

  waitFor<T>(predicate: (ev: FfiMessage) => boolean, options?: { signal?: AbortSignal }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const signal = options?.signal;
      if (signal?.aborted) return reject(signal.reason ?? new Error('waitFor aborted'));
      const cleanup = () => {
        this.waiters.delete(listener);
        signal?.removeEventListener('abort', onAbort);
      };
      const listener = (ev: FfiMessage) => {
        if (!predicate(ev)) return;
        cleanup();
        resolve(ev.message.value as T);
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason ?? new Error('waitFor aborted'));
      };
      signal?.addEventListener('abort', onAbort);
      this.waiters.add(listener);
    });
  }
}

/**
 * Lets the routed client hand this room only its own room events (without it the room sees every room's). Called by
 * RoomIO and the job context for the rooms they are given; harmless for any other room.
 */
export function routeRoomEvents(room: object): void {
  const listener = (room as RoomLike).onFfiEvent;
  if (typeof listener === 'function') roomOfListener.set(listener as Listener, room as RoomLike);
}

function createRoutedClient(): RoutedFfiClient {
  // The bindings rtc-node itself loads (its exact pinned version), never a second copy of the native library.
  const rtcNodeMain = createRequire(import.meta.url).resolve('@livekit/rtc-node');
  const bindings = createRequire(rtcNodeMain)('@livekit/rtc-ffi-bindings') as Bindings;
  const pkg = JSON.parse(readFileSync(join(dirname(rtcNodeMain), '..', 'package.json'), 'utf8')) as { version: string };
  return new RoutedFfiClient(bindings, pkg.version);
}

/**
 * Makes rtc-node find the routed client when it first asks for its bridge: a lazy global, so importing voicechart
 * loads no native code; the client is made on rtc-node's first call. Nothing changes when rtc-node already made its
 * own (the native library is initialised once per process). `VOICECHART_RTC_LOGS=1` keeps rtc-node's own client,
 * with its log capture, for debugging the native side.
 */
export function installRoutedFfiClient(): void {
  if (process.env.VOICECHART_RTC_LOGS === '1') return;
  const existing = Object.getOwnPropertyDescriptor(globalThis, '_ffiClientInstance');
  if (existing) return;
  let client: unknown;
  Object.defineProperty(globalThis, '_ffiClientInstance', {
    configurable: true,
    get: () => (client ??= createRoutedClient()),
    set: (v: unknown) => {
      client = v;
    },
  });
}

installRoutedFfiClient();
