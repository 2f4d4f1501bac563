import { ParticipantKind, TrackSource } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { defaultTextInputCallback, resolveRoomInputOptions, resolveRoomOutputOptions } from '../../src/room/options.ts';

describe('RoomIO options', () => {
  it('defaults follow LiveKit Agents (deleteRoomOnClose on, as documented by the seed)', () => {
    const i = resolveRoomInputOptions();
    expect(i).toMatchObject({ audioEnabled: true, videoEnabled: false, textEnabled: true, audioSampleRate: 24000, audioNumChannels: 1, closeOnDisconnect: true, deleteRoomOnClose: true });
    expect(i.participantKinds).toEqual([ParticipantKind.SIP, ParticipantKind.STANDARD, ParticipantKind.CONNECTOR]);
    expect(i.textInputCallback).toBe(defaultTextInputCallback);
    const o = resolveRoomOutputOptions();
    expect(o).toMatchObject({ audioEnabled: true, transcriptionEnabled: true, audioSampleRate: 24000, audioNumChannels: 1, audioTrackName: 'roomio_audio', syncTranscription: true, transcriptionSpeedFactor: 1 });
    expect(o.audioPublishOptions.source).toBe(TrackSource.SOURCE_MICROPHONE);
  });

  it('broken values get clear errors', () => {
    expect(() => resolveRoomInputOptions({ audioSampleRate: 0 })).toThrow(/audioSampleRate must be a positive integer/);
    expect(() => resolveRoomInputOptions({ audioEnabled: 'yes' as never })).toThrow(/audioEnabled must be a boolean/);
    expect(() => resolveRoomInputOptions({ participantIdentity: '' })).toThrow(/participantIdentity/);
    expect(() => resolveRoomInputOptions({ textInputCallback: 3 as never })).toThrow(/textInputCallback must be a function/);
    expect(() => resolveRoomOutputOptions({ transcriptionSpeedFactor: -1 })).toThrow(/transcriptionSpeedFactor must be a positive number/);
    expect(() => resolveRoomOutputOptions({ audioNumChannels: 1.5 })).toThrow(/audioNumChannels/);
    expect(() => resolveRoomOutputOptions({ audioTrackName: '' })).toThrow(/audioTrackName/);
  });
});
