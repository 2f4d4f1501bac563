import { TrackKind, TrackSource, VideoBufferType, VideoStream, type Room } from '@livekit/rtc-node';
import { fromCallback } from 'xstate';
import type { RgbaImage } from '../src/llm/chatContext.ts';
import { followTrack } from '../src/room/trackFollower.ts';
import type { VideoFrameInfo, VideoSampler } from '../src/room/videoSampler.ts';

export interface RoomVideoInputInput {
  room: Room;
  identity: string;
  sampler: VideoSampler;
  userSpeaking: () => boolean;
  /** A kept frame, as RGBA. */
  onSample: (image: RgbaImage, info: VideoFrameInfo) => void;
  onError: (e: Error) => void;
}

/**
 * The linked participant's camera (or, without one, screen share) as an actor: every frame is offered to the
 * sampler, and only kept frames are converted to RGBA (conversion is the costly part).
 */
export const roomVideoInputLogic = fromCallback<{ type: 'NONE' }, RoomVideoInputInput>(({ input }) =>
  followTrack(input.room, input.identity, TrackKind.KIND_VIDEO, [TrackSource.SOURCE_CAMERA, TrackSource.SOURCE_SCREENSHARE], (track) => {
    const reader = new VideoStream(track).getReader();
    let open = true;
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !open) return;
          const info: VideoFrameInfo = { width: value.frame.width, height: value.frame.height, receivedAt: Date.now() };
          let keep = false;
          try {
            keep = input.sampler(info, { userSpeaking: input.userSpeaking() });
          } catch (e) {
            input.onError(e instanceof Error ? e : new Error(String(e)));
          }
          if (!keep) continue;
          const rgba = value.frame.type === VideoBufferType.RGBA ? value.frame : value.frame.convert(VideoBufferType.RGBA);
          input.onSample({ width: rgba.width, height: rgba.height, rgba: new Uint8Array(rgba.data) }, info);
        }
      } catch (e) {
        if (open) input.onError(e instanceof Error ? e : new Error(String(e)));
      }
    })();
    return () => {
      open = false;
      void reader.cancel().catch(() => undefined);
    };
  }),
);
