import type { Room } from '@livekit/rtc-node';
import type { AnyActorRef } from 'xstate';
import { roomVideoInputLogic } from '../../actors/roomVideoInput.ts';
import type { ChatMessage, ImageContent, RgbaImage } from '../llm/chatContext.ts';
import { shortId } from '../llm/ids.ts';
import { validateRgba } from '../llm/image.ts';
import { startChild, stopChild, type ActorHome } from './childActor.ts';
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
      /** Under the session's actor (or standalone, observed by `inspect`). */
      home: ActorHome;
      onError: (e: Error) => void;
    },
  ) {}

  follow(identity: string): void {
    this.stop();
    this.actor = startChild(roomVideoInputLogic, { ...this.opts.home, systemId: undefined }, {
      room: this.room,
      identity,
      sampler: this.opts.sampler,
      userSpeaking: this.opts.userSpeaking,
      onSample: (image: RgbaImage, info: VideoFrameInfo) => this.keep(image, info),
      onError: this.opts.onError,
    });
  }

  stop(): void {
    if (this.actor) stopChild(this.actor, this.opts.home);
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
