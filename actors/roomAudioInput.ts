import { AudioStream, TrackKind, TrackSource, type Room } from '@livekit/rtc-node';
import { fromCallback } from 'xstate';
import { AudioFrame } from '../src/audio/frame.ts';
import { followTrack } from '../src/room/trackFollower.ts';

export interface RoomAudioInputInput {
  room: Room;
  /** The linked participant whose microphone is heard. */
  identity: string;
  sampleRate: number;
  numChannels: number;
  /** Where the frames go (the RoomIO's input stream). */
  push: (frame: AudioFrame) => void;
  /** The microphone track now heard, or null. */
  onTrack?: (sid: string | null) => void;
  onError?: (e: Error) => void;
}

/**
 * Frames of 50 ms, as LiveKit Agents (Python) reads room audio: rtc-node hands every frame to every stream's
 * listener, so 10 ms frames cost five times the events, and that cost grows with the number of streams per process.
 */
const FRAME_SIZE_MS = 50;

/** Silence pushed when a track ends, so a recogniser sees the end of the utterance (as LiveKit Agents does). */
const TAIL_MS = 500;

/**
 * The linked participant's microphone as an actor: while it runs, the participant's subscribed microphone track is
 * read through an AudioStream (resampled to the requested format) and its frames pushed on. One actor per linked
 * participant; stopping it closes the stream.
 */
export const roomAudioInputLogic = fromCallback<{ type: 'NONE' }, RoomAudioInputInput>(({ input }) => {
  const { room, identity, sampleRate, numChannels, push } = input;
  return followTrack(room, identity, TrackKind.KIND_AUDIO, [TrackSource.SOURCE_MICROPHONE], (track, pub) => {
    const stream = new AudioStream(track, { sampleRate, numChannels, frameSizeMs: FRAME_SIZE_MS });
    const reader = stream.getReader();
    let open = true;
    input.onTrack?.(pub.sid ?? null);
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !open) break;
          push(AudioFrame.from(value));
        }
      } catch (e) {
        if (open) input.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
      if (open) push(AudioFrame.silence(sampleRate, numChannels, TAIL_MS));
    })();
    return () => {
      open = false;
      input.onTrack?.(null);
      void reader.cancel().catch(() => undefined);
    };
  });
});
