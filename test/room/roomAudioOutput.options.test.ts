/**
 * The room audio output's queue option: the native AudioSource aborts the process on a queue that is not a multiple
 * of 10 ms, and its unqueued mode (0) makes receivers stretch the audio after each pause (see checkQueueSize in
 * src/room/roomAudioOutput.ts), so such values are refused when the output is made, before any native call.
 */
import { type Room, TrackPublishOptions } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { RoomAudioOutput } from '../../src/room/roomAudioOutput.ts';

const make = (queueSizeMs?: number) =>
  new RoomAudioOutput({} as Room, { sampleRate: 24000, numChannels: 1, trackName: 'agent', publishOptions: new TrackPublishOptions(), queueSizeMs });

describe('RoomAudioOutput queueSizeMs', () => {
  it('refuses 0, negative and non-multiples of 10 ms, naming the value', () => {
    for (const bad of [0, -10, 205, 12.5, Number.NaN]) expect(() => make(bad), String(bad)).toThrow(new RegExp(`queueSizeMs must be a positive multiple of 10 ms \\(got ${bad}\\)`));
  });

  it('takes multiples of 10 ms and defaults to 200 ms', () => {
    for (const ok of [undefined, 10, 200, 1000]) {
      const out = make(ok);
      expect(out.aheadOfPlayoutMs).toBe(0);
      out.close();
    }
    const out = make();
    expect((out as unknown as { queueSizeMs: number }).queueSizeMs).toBe(200);
    out.close();
  });
});
