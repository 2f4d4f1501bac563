import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { audioOutputMachine } from '../machines/audioOutput.ts';
import type { AudioOutput } from '../src/io/types.ts';
import { wiringTable } from '../src/session/wiring.ts';

export type AudioOutputChannel = Actor<typeof audioOutputMachine>;

/** Each channel's device (the machine is provided once per process, see src/session/wiring.ts: ~8 KB per session). */
const devices = wiringTable<AudioOutput>('audio output channel');

const wiredAudioOutputMachine = audioOutputMachine.provide({
  actions: {
    pauseDevice: ({ self }) => devices.of(self).pause(),
    resumeDevice: ({ self }) => devices.of(self).resume(),
    clearDevice: ({ self }) => devices.of(self).clearBuffer(),
  },
});

/** Wraps an output device in its channel actor: commands go through the machine, playback events come back. */
export function createAudioOutputChannel(
  device: AudioOutput,
  /** The session's root actor: the channel joins its system as `audioOutput`. */
  parent?: AnyActorRef,
): { channel: AudioOutputChannel; stop(): void } {
  const channel = createActor(wiredAudioOutputMachine, { input: { canPause: device.canPause }, parent, systemId: parent ? 'audioOutput' : undefined });
  devices.set(channel, device);
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
