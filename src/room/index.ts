import './ffiClient.ts';
export { RoomIO, roomIOFor, roomIOOf, type RoomIOOptions } from './roomIO.ts';
export {
  CLOSE_ON_DISCONNECT_REASONS,
  DEFAULT_PARTICIPANT_KINDS,
  defaultTextInputCallback,
  resolveRoomInputOptions,
  resolveRoomOutputOptions,
  type RoomInputOptions,
  type RoomOutputOptions,
  type TextInputCallback,
  type TextInputEvent,
} from './options.ts';
export { RoomAudioOutput, type RoomAudioOutputOptions } from './roomAudioOutput.ts';
export { RoomTranscriptionOutput, UserTranscriptPublisher, TOPIC_TRANSCRIPTION, ATTR_SEGMENT_ID, ATTR_TRANSCRIPTION_FINAL, ATTR_TRANSCRIBED_TRACK_ID } from './transcriptionOutput.ts';
export { ATTR_AGENT_STATE } from './agentStateAttribute.ts';
export { TOPIC_CHAT } from './textInput.ts';
export { PreConnectAudioError, PreConnectAudioHandler, TF_PRECONNECT_BUFFER, TOPIC_PRE_CONNECT_AUDIO } from './preConnectAudio.ts';
export { VoiceActivityVideoSampler, type VideoSampler, type VideoFrameInfo } from './videoSampler.ts';
export { RoomVideoInput } from './roomVideoInput.ts';
