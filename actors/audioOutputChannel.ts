import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { audioOutputMachine } from '../machines/audioOutput.ts';
import type { AudioOutput } from '../src/io/types.ts';

export type AudioOutputChannel = Actor<typeof audioOutputMachine>;

/** Wraps an output device in its channel actor: commands go through the machine, playback events come back. */
export function createAudioOutputChannel(
  device: AudioOutput,
  /** The session's root actor: the channel joins its system as `audioOutput`. */
  parent?: AnyActorRef,
): { channel: AudioOutputChannel; stop(): void } {
  const channel = createActor(
    audioOutputMachine.provide({
      actions: {
        pauseDevice: () => device.pause(),
        resumeDevice: () => device.resume(),
        clearDevice: () => device.clearBuffer(),
      },
    }),
    { input: { canPause: device.canPause }, parent, systemId: parent ? 'audioOutput' : undefined },
  );
  channel.start();
  const sub = device.events$.subscribe((ev) =>
    channel.send(ev.type === 'playback_started' ? { type: 'PLAYBACK_STARTED' } : { type: 'PLAYBACK_FINISHED', interrupted: ev.interrupted }),
  );
  return {
    channel,
    stop: () => {
      sub.unsubscribe();
      // A child of the session's actor is stopped by its parent; a standalone channel stops itself.
      if (parent) parent.send({ type: 'STOP_CHILD', ref: channel });
      else channel.stop();
    },
  };
}
