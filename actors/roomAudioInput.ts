import { AudioStream, TrackKind, TrackSource, type Room } from '@livekit/rtc-node';
import { fromCallback } from 'xstate';
import { AudioFrame } from '../src/audio/frame.ts';
import { followTrack } from '../src/room/trackFollower.ts';
import { leadGate } from '../src/room/leadGate.ts';
import { hasPreConnectBuffer } from '../src/room/preConnectAudio.ts';
import { toInputFormat } from '../src/room/preConnectDecode.ts';

/** Where a track's pre-connect recording comes from (the room's PreConnectAudioHandler). */
export interface PreConnectSource {
  take(identity: string, trackSid: string): Promise<AudioFrame | null>;
}

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
  /** Pre-connect recordings (roomInputOptions.preConnectAudio); none when null or absent. */
  preConnect?: PreConnectSource | null;
  /** Reports a pre-connect recording that could not be used (the live audio flows regardless). */
  onPreConnectError?: (e: Error) => void;
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
 * read through an AudioStream (resampled to the requested format) and its frames pushed on. A track published with
 * a pre-connect buffer (TF_PRECONNECT_BUFFER) first gets that recording, converted to the same format, and its live
 * frames wait behind it (leadGate). One actor per linked participant; stopping it closes the stream.
 */
export const roomAudioInputLogic = fromCallback<{ type: 'NONE' }, RoomAudioInputInput>(({ input }) => {
  const { room, identity, sampleRate, numChannels, push } = input;
  return followTrack(room, identity, TrackKind.KIND_AUDIO, [TrackSource.SOURCE_MICROPHONE], (track, pub) => {
    const stream = new AudioStream(track, { sampleRate, numChannels, frameSizeMs: FRAME_SIZE_MS });
    const reader = stream.getReader();
    let open = true;
    input.onTrack?.(pub.sid ?? null);
    const pre = input.preConnect && pub.sid && hasPreConnectBuffer(pub) ? input.preConnect : null;
    const gate = pre
      ? leadGate(
          pre.take(identity, pub.sid!).then((rec) => (rec ? toInputFormat(rec, sampleRate, numChannels) : [])),
          push,
          (e) => (input.onPreConnectError ?? input.onError)?.(e),
        )
      : null;
    const deliver = gate ? gate.live : push;
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !open) break;
          deliver(AudioFrame.from(value));
        }
      } catch (e) {
        if (open) input.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
      if (open) deliver(AudioFrame.silence(sampleRate, numChannels, TAIL_MS));
    })();
    return () => {
      open = false;
      gate?.close();
      input.onTrack?.(null);
      void reader.cancel().catch(() => undefined);
    };
  });
});
