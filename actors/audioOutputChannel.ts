import { createActor, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { audioOutputMachine } from '../machines/audioOutput.ts';
import type { AudioOutput } from '../src/io/types.ts';

export type AudioOutputChannel = Actor<typeof audioOutputMachine>;

/** Wraps an output device in its channel actor: commands go through the machine, playback events come back. */
export function createAudioOutputChannel(
  device: AudioOutput,
  inspect?: Observer<InspectionEvent> | ((e: InspectionEvent) => void),
): { channel: AudioOutputChannel; stop(): void } {
  const channel = createActor(
    audioOutputMachine.provide({
      actions: {
        pauseDevice: () => device.pause(),
        resumeDevice: () => device.resume(),
        clearDevice: () => device.clearBuffer(),
      },
    }),
    { input: { canPause: device.canPause }, inspect },
  );
  channel.start();
  const sub = device.events$.subscribe((ev) =>
    channel.send(ev.type === 'playback_started' ? { type: 'PLAYBACK_STARTED' } : { type: 'PLAYBACK_FINISHED', interrupted: ev.interrupted }),
  );
  return {
    channel,
    stop: () => {
      sub.unsubscribe();
      channel.stop();
    },
  };
}
