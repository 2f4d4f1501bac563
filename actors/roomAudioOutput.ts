import { createActor, fromCallback, fromPromise, type Actor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { roomAudioOutputMachine, type RoomAudioOutputEvent } from '../machines/roomAudioOutput.ts';

/** What the room audio output actor drives: a frame queue in front of an AudioSource, and the facade's reports. */
/** One queued piece of audio; the actor only reads its length. */
export interface QueuedAudio {
  readonly ms: number;
}

export interface RoomAudioSink<T extends QueuedAudio = QueuedAudio> {
  /** Takes the next queued frame of the segment. */
  take(): T | undefined;
  /** Resolves when a frame is queued (or at once when one is). */
  frameQueued(): Promise<void>;
  /** Hands one frame to the AudioSource (resolves once the source's queue took it). */
  capture(piece: T): Promise<void>;
  waitForSubscriber(): Promise<void>;
  waitForPlayout(): Promise<void>;
  clear(): void;
  close(): void;
  playbackStarted(): void;
  finished(interrupted: boolean): void;
  captureError(message: string): void;
}

export type RoomAudioOutputActor = Actor<typeof roomAudioOutputMachine>;

/** The pump: one capture at a time, so the output is never more than the source's queue ahead of playout. */
const pumpFor = <T extends QueuedAudio>(sink: RoomAudioSink<T>) =>
  fromCallback<RoomAudioOutputEvent>(({ sendBack }) => {
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const frame = sink.take();
      if (!frame) {
        await sink.frameQueued();
        continue;
      }
      sendBack({ type: 'CAPTURE_BEGIN', ms: frame.ms });
      try {
        await sink.capture(frame);
      } catch (e) {
        if (!stopped) sendBack({ type: 'CAPTURE_FAILED', error: e instanceof Error ? e.message : String(e) });
        return;
      }
      if (!stopped) sendBack({ type: 'CAPTURE_END' });
    }
  })();
  return () => {
    stopped = true;
  };
});

/** The room audio output's actor logic, bound to a sink; `captureStallMs` bounds a single capture. */
export function roomAudioOutputLogic<T extends QueuedAudio>(sink: RoomAudioSink<T>, captureStallMs: number) {
  return roomAudioOutputMachine.provide({
    actors: {
      subscriber: fromPromise(() => sink.waitForSubscriber()),
      pump: pumpFor(sink),
      playout: fromPromise(() => sink.waitForPlayout()),
    },
    delays: { captureStall: captureStallMs },
    actions: {
      reportPlaybackStarted: () => sink.playbackStarted(),
      reportFinished: (_, p) => sink.finished(p.interrupted),
      reportCaptureError: (_, p) => sink.captureError(p.error),
      clearSource: () => sink.clear(),
      closeSource: () => sink.close(),
    },
  });
}

export function createRoomAudioOutputActor<T extends QueuedAudio>(
  sink: RoomAudioSink<T>,
  opts: { captureStallMs: number; parent?: AnyActorRef; systemId?: string; inspect?: Observer<InspectionEvent> | ((e: InspectionEvent) => void) },
): RoomAudioOutputActor {
  const logic = roomAudioOutputLogic(sink, opts.captureStallMs);
  // Under the session's actor when there is one (its system and inspector), else standalone.
  const actor = opts.parent ? createActor(logic, { parent: opts.parent, systemId: opts.systemId }) : createActor(logic, { inspect: opts.inspect });
  return actor as unknown as RoomAudioOutputActor;
}
