/**
 * Live inspection over a loopback WebSocket: a relay (inspectionRelay.ts) plus `@statelyai/inspect`'s
 * `createWebSocketInspector` publishing to it in Stately's wire format. Watch with the relay's page (`pageUrl`:
 * actor table offline, Stately's visual inspector online only) or any WebSocket client on `viewerUrl`.
 *
 * Events go through our own compact conversion (inspectionRecord.ts / safeJson.ts), not Stately's: its default path
 * stringifies whole snapshots (children, actor system, RxJS subscriptions) on every event. The Sky inspector is not
 * used on purpose: it needs Stately's cloud and crashes the process on circular snapshots.
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import type { AnyActorRef, AnyEventObject, InspectionEvent } from 'xstate';
import { snapshotFields } from './inspectionRecord.ts';
import { startInspectionRelay, type InspectionRelayOptions } from './inspectionRelay.ts';
import { toSafeJson, type SafeJsonLimits } from './safeJson.ts';
import type { Inspector } from './types.ts';

export interface LocalWebSocketInspectorOptions extends InspectionRelayOptions {
  /** Send (size-limited) machine contexts, which Stately's inspector shows. Default true. */
  context?: boolean;
  limits?: SafeJsonLimits;
  /** How long to wait for the inspector's socket to reach the relay (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Called once with the first error met while converting or sending. Default: one console.warn. */
  onError?: (error: Error) => void;
}

export interface LocalWebSocketInspector extends Inspector {
  readonly port: number;
  /** WebSocket URL for viewers: every event, in Stately's format (`@xstate.actor` / `.event` / `.snapshot`). */
  readonly viewerUrl: string;
  /** The viewer page. */
  readonly pageUrl: string;
  viewerCount(): number;
}

const CONTEXT_LIMITS: SafeJsonLimits = { maxDepth: 4, maxString: 500, maxArray: 20, maxKeys: 40 };

export async function localWebSocketInspector(options: LocalWebSocketInspectorOptions = {}): Promise<LocalWebSocketInspector> {
  const relay = await startInspectionRelay(options);
  const limits = options.limits ?? CONTEXT_LIMITS;
  const stately = createWebSocketInspector({ url: relay.publishUrl, autoStart: true });
  try {
    // Stopping Stately's socket while it is still connecting makes it retry forever (every 5 s), so make sure it
    // is connected before anyone can call stop().
    await relay.publisherConnected(options.connectTimeoutMs ?? 5000);
  } catch (err) {
    await relay.close();
    stately.stop();
    throw err;
  }

  let stopped = false;
  let reported = false;
  const report = (err: unknown) => {
    if (reported) return;
    reported = true;
    const error = err instanceof Error ? err : new Error(String(err));
    if (options.onError) options.onError(error);
    else console.warn(`voicechart localWebSocketInspector: ${error.message}`);
  };
  const snapshotOf = (snapshot: unknown) => snapshotFields(snapshot, { context: options.context ?? true, limits });
  const eventOf = (event: AnyEventObject) => toSafeJson(event, limits) as unknown as AnyEventObject;

  const inspect = (ev: InspectionEvent) => {
    if (stopped) return;
    try {
      const ref = ev.actorRef as AnyActorRef;
      switch (ev.type) {
        case '@xstate.actor':
          // Stately derives the parent and root ids from the ref itself (passing them in info drops them: 0.7.2).
          // The snapshot cannot be read yet (XState throws while the actor initialises); the first
          // `@xstate.snapshot` follows right away, and Stately assumes an active actor until then.
          stately.actor(ref);
          break;
        case '@xstate.event':
          stately.event(ref, eventOf(ev.event), ev.sourceRef ? { source: ev.sourceRef as AnyActorRef } : undefined);
          break;
        case '@xstate.snapshot':
          stately.snapshot(ref, snapshotOf(ev.snapshot), { event: eventOf(ev.event) });
          break;
        default:
          // Stately's format has no microsteps or actions.
          break;
      }
    } catch (err) {
      report(err);
    }
  };

  return {
    inspect,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      stately.stop();
      await relay.close();
    },
    port: relay.port,
    viewerUrl: relay.viewerUrl,
    pageUrl: relay.pageUrl,
    viewerCount: relay.viewerCount,
  };
}
