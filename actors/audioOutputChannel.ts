import { createActor, type Actor, type AnyActorRef } from 'xstate';
import { audioOutputMachine } from '../machines/audioOutput.ts';
import type { AudioOutput } from '../src/io/types.ts';

export type AudioOutputChannel = Actor<typeof audioOutputMachine>;

/**
 * Each channel's device. The machine is provided once per process (a provided copy rebuilds its state tree, ~8 KB
 * per session); its actions find their device through the acting actor.
 */
const devices = new WeakMap<object, AudioOutput>();
const deviceOf = (self: object): AudioOutput => {
  const d = devices.get(self);
  if (!d) throw new Error('audio output channel: this actor has no device');
  return d;
};

const wiredAudioOutputMachine = audioOutputMachine.provide({
  actions: {
    pauseDevice: ({ self }) => deviceOf(self).pause(),
    resumeDevice: ({ self }) => deviceOf(self).resume(),
    clearDevice: ({ self }) => deviceOf(self).clearBuffer(),
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
