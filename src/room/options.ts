/** RoomIO options (LiveKit Agents' RoomInputOptions / RoomOutputOptions), their defaults and validation. */
import { DisconnectReason, ParticipantKind, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import type { NoiseCancellation } from '../noise/rnnoise.ts';
import type { AgentSession } from '../session/agentSession.ts';
import type { TextStreamInfo } from '@livekit/rtc-node';

export interface TextInputEvent {
  text: string;
  info: TextStreamInfo;
  participantIdentity: string;
}

/** What to do with a chat message the linked participant typed on `lk.chat`. */
export type TextInputCallback = (session: AgentSession<any>, ev: TextInputEvent) => void | Promise<void>;

export interface RoomInputOptions {
  /** Subscribe to the linked participant's microphone. Default true. */
  audioEnabled?: boolean;
  /** Subscribe to the linked participant's camera (or screen share). Default false. */
  videoEnabled?: boolean;
  /** Accept chat text on `lk.chat`. Default true. */
  textEnabled?: boolean;
  /** Rate the microphone audio is delivered at. Default 24000. */
  audioSampleRate?: number;
  /** Default 1. */
  audioNumChannels?: number;
  /**
   * Accept the microphone audio a client recorded before the agent joined (byte stream
   * `lk.agent.pre-connect-audio-buffer`, sent for a track published with livekit-client's `preConnectBuffer`) and
   * hear it before the live track, so the user's first words are not lost. Default true.
   */
  preConnectAudio?: boolean;
  /** How long (ms) to wait for a pre-connect buffer to arrive and to complete. Default 3000. */
  preConnectAudioTimeout?: number;
  /** Cleans the microphone audio before the session sees it, e.g. `rnnoise()`. */
  noiseCancellation?: NoiseCancellation;
  /** Link only this participant. */
  participantIdentity?: string;
  /** Kinds that may be linked automatically. Default standard, SIP and connector participants. */
  participantKinds?: ParticipantKind[];
  /** Close the session (reason `participant_disconnected`) when the linked participant leaves for good. Default true. */
  closeOnDisconnect?: boolean;
  /** Delete the room through the server API when the session closes. Default true. */
  deleteRoomOnClose?: boolean;
  /** Default: interrupt, then `generateReply({ userInput })`. */
  textInputCallback?: TextInputCallback;
  /** Server API access for `deleteRoomOnClose`; default from LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET. */
  livekitUrl?: string;
  apiKey?: string;
  apiSecret?: string;
}

export interface RoomOutputOptions {
  /** Publish the agent's voice as an audio track. Default true. */
  audioEnabled?: boolean;
  /** Publish user and agent transcripts on `lk.transcription`. Default true. */
  transcriptionEnabled?: boolean;
  /** Default 24000. */
  audioSampleRate?: number;
  /** Default 1. */
  audioNumChannels?: number;
  /** Default "roomio_audio". */
  audioTrackName?: string;
  /** Default: source microphone. */
  audioPublishOptions?: TrackPublishOptions;
  /** Agent words go out as they are heard (paced by playout); false: as soon as they exist. Default true. */
  syncTranscription?: boolean;
  /** Pace multiplier for synced transcripts. Default 1.0. */
  transcriptionSpeedFactor?: number;
}

export type ResolvedRoomInputOptions = Required<Omit<RoomInputOptions, 'noiseCancellation' | 'participantIdentity' | 'livekitUrl' | 'apiKey' | 'apiSecret'>> &
  Pick<RoomInputOptions, 'noiseCancellation' | 'participantIdentity' | 'livekitUrl' | 'apiKey' | 'apiSecret'>;
export type ResolvedRoomOutputOptions = Required<RoomOutputOptions>;

export const DEFAULT_PARTICIPANT_KINDS: readonly ParticipantKind[] = [ParticipantKind.SIP, ParticipantKind.STANDARD, ParticipantKind.CONNECTOR];

/** Reasons for which a linked participant has left for good (anything else may be a reconnect). */
export const CLOSE_ON_DISCONNECT_REASONS: readonly DisconnectReason[] = [
  DisconnectReason.CLIENT_INITIATED,
  DisconnectReason.ROOM_DELETED,
  DisconnectReason.USER_REJECTED,
];

export const defaultTextInputCallback: TextInputCallback = async (session, ev) => {
  await session.interrupt();
  session.generateReply({ userInput: ev.text });
};

const positiveInt = (name: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
};
const bool = (name: string, v: unknown): boolean => {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${String(v)}`);
  return v;
};

export function resolveRoomInputOptions(o: RoomInputOptions = {}): ResolvedRoomInputOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('roomInputOptions must be an object');
  const kinds = o.participantKinds ?? [...DEFAULT_PARTICIPANT_KINDS];
  if (!Array.isArray(kinds)) throw new TypeError('participantKinds must be an array of ParticipantKind');
  const cb = o.textInputCallback ?? defaultTextInputCallback;
  if (typeof cb !== 'function') throw new TypeError('textInputCallback must be a function');
  if (o.participantIdentity !== undefined && (typeof o.participantIdentity !== 'string' || !o.participantIdentity)) {
    throw new TypeError('participantIdentity must be a non-empty string');
  }
  return {
    audioEnabled: bool('audioEnabled', o.audioEnabled ?? true),
    videoEnabled: bool('videoEnabled', o.videoEnabled ?? false),
    textEnabled: bool('textEnabled', o.textEnabled ?? true),
    audioSampleRate: positiveInt('audioSampleRate', o.audioSampleRate ?? 24000),
    audioNumChannels: positiveInt('audioNumChannels', o.audioNumChannels ?? 1),
    preConnectAudio: bool('preConnectAudio', o.preConnectAudio ?? true),
    preConnectAudioTimeout: positiveInt('preConnectAudioTimeout', o.preConnectAudioTimeout ?? 3000),
    noiseCancellation: o.noiseCancellation,
    participantIdentity: o.participantIdentity,
    participantKinds: kinds,
    closeOnDisconnect: bool('closeOnDisconnect', o.closeOnDisconnect ?? true),
    deleteRoomOnClose: bool('deleteRoomOnClose', o.deleteRoomOnClose ?? true),
    textInputCallback: cb,
    livekitUrl: o.livekitUrl,
    apiKey: o.apiKey,
    apiSecret: o.apiSecret,
  };
}

export function resolveRoomOutputOptions(o: RoomOutputOptions = {}): ResolvedRoomOutputOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('roomOutputOptions must be an object');
  const speed = o.transcriptionSpeedFactor ?? 1;
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0) throw new RangeError(`transcriptionSpeedFactor must be a positive number, got ${String(speed)}`);
  const name = o.audioTrackName ?? 'roomio_audio';
  if (typeof name !== 'string' || !name) throw new TypeError('audioTrackName must be a non-empty string');
  return {
    audioEnabled: bool('audioEnabled', o.audioEnabled ?? true),
    transcriptionEnabled: bool('transcriptionEnabled', o.transcriptionEnabled ?? true),
    audioSampleRate: positiveInt('audioSampleRate', o.audioSampleRate ?? 24000),
    audioNumChannels: positiveInt('audioNumChannels', o.audioNumChannels ?? 1),
    audioTrackName: name,
    audioPublishOptions: o.audioPublishOptions ?? new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    syncTranscription: bool('syncTranscription', o.syncTranscription ?? true),
    transcriptionSpeedFactor: speed,
  };
}
