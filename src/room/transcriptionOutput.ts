import type { Room, TextStreamWriter } from '@livekit/rtc-node';
import { LegacyTranscription } from './legacyTranscription.ts';
import type { TextOutput } from '../io/types.ts';
import { shortId } from '../llm/ids.ts';

export const TOPIC_TRANSCRIPTION = 'lk.transcription';
export const ATTR_SEGMENT_ID = 'lk.segment_id';
export const ATTR_TRANSCRIPTION_FINAL = 'lk.transcription_final';
export const ATTR_TRANSCRIBED_TRACK_ID = 'lk.transcribed_track_id';

const segmentId = () => shortId('SG_');

/** Runs async writes one after another; a failure is reported and does not stop later writes. */
class WriteChain {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly onError: (e: Error) => void) {}
  run(fn: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(fn).catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    return this.tail;
  }
  idle(): Promise<void> {
    return this.tail;
  }
}

/**
 * The agent's words on `lk.transcription`: one text stream per speech segment, sent by the agent, opened with the
 * first text (`lk.transcription_final` "false", a fresh `SG_` segment id, the agent track's sid) and written to as
 * words are released; closing the stream ends the segment (rtc-node cannot send trailer attributes).
 */
export class RoomTranscriptionOutput implements TextOutput {
  readonly label = 'livekit-room-transcription';
  private writer: Promise<TextStreamWriter> | null = null;
  private readonly chain: WriteChain;
  private segment = segmentId();
  /** The segment's text so far, for the legacy API (which sends it whole each time). */
  private said = '';
  private readonly legacy: LegacyTranscription;

  constructor(
    private readonly room: Room,
    private readonly opts: { syncToPlayout: boolean; speedFactor: number; trackSid: () => string | undefined; onError: (e: Error) => void },
  ) {
    this.chain = new WriteChain(opts.onError);
    this.legacy = new LegacyTranscription(room, opts.onError);
  }

  get syncToPlayout(): boolean {
    return this.opts.syncToPlayout;
  }
  get speedFactor(): number {
    return this.opts.speedFactor;
  }

  captureText(text: string): void {
    if (!text) return;
    const lp = this.room.localParticipant;
    if (!lp || !this.room.isConnected) return;
    if (!this.writer) {
      const attributes: Record<string, string> = { [ATTR_SEGMENT_ID]: this.segment, [ATTR_TRANSCRIPTION_FINAL]: 'false' };
      const sid = this.opts.trackSid();
      if (sid) attributes[ATTR_TRANSCRIBED_TRACK_ID] = sid;
      const writer = lp.streamText({ topic: TOPIC_TRANSCRIPTION, attributes });
      writer.catch(() => undefined);
      this.writer = writer;
    }
    const w = this.writer;
    void this.chain.run(async () => (await w).write(text));
    this.said += text;
    this.legacy.send(lp.identity, this.opts.trackSid(), this.segment, this.said, false);
  }

  flush(): void {
    const w = this.writer;
    this.writer = null;
    const lp = this.room.localParticipant;
    if (w && lp) this.legacy.send(lp.identity, this.opts.trackSid(), this.segment, this.said, true);
    this.segment = segmentId();
    this.said = '';
    if (w) void this.chain.run(async () => (await w).close());
  }

  /** Resolves when every write so far reached the room. */
  async idle(): Promise<void> {
    await Promise.all([this.chain.idle(), this.legacy.idle()]);
  }
}

/**
 * The linked user's transcripts on `lk.transcription`, sent on their behalf: every update is a short stream with the
 * full current text ("false"); a final one is followed by the same text marked "true", and the segment id rotates.
 */
export class UserTranscriptPublisher {
  private segment = segmentId();
  private readonly chain: WriteChain;
  private readonly legacy: LegacyTranscription;

  constructor(
    private readonly room: Room,
    private readonly opts: { identity: () => string | null; trackSid: () => string | undefined; onError: (e: Error) => void },
  ) {
    this.chain = new WriteChain(opts.onError);
    this.legacy = new LegacyTranscription(room, opts.onError);
  }

  publish(transcript: string, isFinal: boolean): void {
    const identity = this.opts.identity();
    const lp = this.room.localParticipant;
    if (!identity || !lp || !this.room.isConnected) return;
    const seg = this.segment;
    const sid = this.opts.trackSid();
    const send = (final: boolean) =>
      this.chain.run(async () => {
        const attributes: Record<string, string> = { [ATTR_SEGMENT_ID]: seg, [ATTR_TRANSCRIPTION_FINAL]: final ? 'true' : 'false' };
        if (sid) attributes[ATTR_TRANSCRIBED_TRACK_ID] = sid;
        const w = await lp.streamText({ topic: TOPIC_TRANSCRIPTION, senderIdentity: identity, attributes });
        await w.write(transcript);
        await w.close();
      });
    void send(false);
    this.legacy.send(identity, sid, seg, transcript, isFinal);
    if (isFinal) {
      void send(true);
      this.segment = segmentId();
    }
  }

  /** A participant switch starts a new segment. */
  rotate(): void {
    this.segment = segmentId();
  }

  async idle(): Promise<void> {
    await Promise.all([this.chain.idle(), this.legacy.idle()]);
  }
}
