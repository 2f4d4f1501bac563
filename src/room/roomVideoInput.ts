import type { Room } from '@livekit/rtc-node';
import { createActor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import { roomVideoInputLogic } from '../../actors/roomVideoInput.ts';
import type { ChatMessage, ImageContent, RgbaImage } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import { validateRgba } from '../llm/image.ts';
import type { VideoFrameInfo, VideoSampler } from './videoSampler.ts';

/**
 * Video in: the linked participant's camera frames, sampled, the latest kept as an image. Each user turn's message
 * gets the latest frame (once: a frame already sent with an earlier turn is not sent again).
 */
export class RoomVideoInput {
  actor: AnyActorRef | null = null;
  /** Every kept frame's arrival (epoch ms) and size, for inspection and tests. */
  readonly samples: Array<VideoFrameInfo> = [];
  private latest: ImageContent | null = null;
  private attached: string | null = null;

  constructor(
    private readonly room: Room,
    private readonly opts: {
      sampler: VideoSampler;
      userSpeaking: () => boolean;
      inspect?: Observer<InspectionEvent> | ((e: InspectionEvent) => void);
      onError: (e: Error) => void;
    },
  ) {}

  follow(identity: string): void {
    this.stop();
    this.actor = createActor(roomVideoInputLogic, {
      input: {
        room: this.room,
        identity,
        sampler: this.opts.sampler,
        userSpeaking: this.opts.userSpeaking,
        onSample: (image, info) => this.keep(image, info),
        onError: this.opts.onError,
      },
      inspect: this.opts.inspect,
    });
    this.actor.start();
  }

  stop(): void {
    this.actor?.stop();
    this.actor = null;
  }

  get latestFrame(): ImageContent | null {
    return this.latest;
  }

  /** Adds the latest frame to a user turn's message (if there is a new one). */
  attachTo(message: ChatMessage): void {
    const img = this.latest;
    if (!img || img.id === this.attached) return;
    this.attached = img.id;
    message.images = [...(message.images ?? []), img];
  }

  private keep(image: RgbaImage, info: VideoFrameInfo): void {
    try {
      validateRgba(image);
    } catch (e) {
      this.opts.onError(e as Error);
      return;
    }
    this.samples.push(info);
    this.latest = { type: 'image_content', id: shortId('img_'), image, createdAt: info.receivedAt };
  }
}
