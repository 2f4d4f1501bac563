import type { Room } from '@livekit/rtc-node';

/**
 * The deprecated transcription API, sent beside the `lk.transcription` text streams as both LiveKit agent SDKs do:
 * older clients see it as `TranscriptionReceived`. Each update carries the segment's accumulated text under the same
 * `SG_` id as the text stream, and is sent only when the transcribed track's sid is known (the API requires one).
 * Updates of one publisher go out in order; a failure is reported and the next update still goes.
 */
export class LegacyTranscription {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly room: Room,
    private readonly onError: (e: Error) => void,
  ) {}

  send(participantIdentity: string, trackSid: string | undefined, segmentId: string, text: string, final: boolean): void {
    const lp = this.room.localParticipant;
    if (!trackSid || !lp || !this.room.isConnected) return;
    const transcription = {
      participantIdentity,
      trackSid,
      segments: [{ id: segmentId, text, final, startTime: 0n, endTime: 0n, language: '' }],
    };
    this.tail = this.tail
      .then(() => lp.publishTranscription(transcription))
      .catch((e: unknown) => this.onError(new Error(`legacy transcription: ${e instanceof Error ? e.message : String(e)}`)));
  }

  idle(): Promise<void> {
    return this.tail;
  }
}
