/** Background audio: an ambient loop and a thinking sound mixed into the agent's audio output. */
export { BackgroundAudioPlayer, type BackgroundAudioPlayerOptions, type BackgroundStartOptions, type PlayHandle } from './player.ts';
export { BuiltinAudioClip } from './builtinClips.ts';
export { chooseSound, loadClip, type AudioConfig, type BackgroundAudioSource, type SoundSpec } from './clipSource.ts';
export { BackgroundMix, clip16, type Clip, type MixVoice } from './mix.ts';
export { MixingAudioOutput } from './mixingOutput.ts';
