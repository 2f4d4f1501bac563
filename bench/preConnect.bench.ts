/**
 * What a pre-connect buffer costs before the session hears it: reading and decoding it (Opus in WebM as Chromium
 * records it, or raw PCM) and converting it to the room input's format (24 kHz mono, 50 ms frames). The first Opus
 * buffer of a process also loads the decoder's WASM (`coldOpusMs`). Medians of 9 runs, per second of audio.
 */
import { readFileSync } from 'node:fs';
import { decodePreConnectBuffer, toInputFormat } from '../src/room/preConnectDecode.ts';
import { percentile, round } from './lib/stats.ts';

const webm = new Uint8Array(readFileSync(new URL('../test/fixtures/preconnect-tone440.webm', import.meta.url)));
const OPUS = { mimeType: 'audio/webm;codecs=opus', attributes: { trackId: 'TR_b', sampleRate: '48000', channels: '1' } };

async function timed(run: () => Promise<number>): Promise<{ ms: number; audioMs: number }> {
  const t = performance.now();
  const audioMs = await run();
  return { ms: performance.now() - t, audioMs };
}

async function median(run: () => Promise<number>) {
  const xs: number[] = [];
  let audioMs = 0;
  for (let i = 0; i < 9; i++) {
    const r = await timed(run);
    xs.push(r.ms);
    audioMs = r.audioMs;
  }
  const ms = percentile(xs, 50);
  return { medianMs: round(ms), audioMs: round(audioMs), msPerAudioSecond: round((ms * 1000) / audioMs) };
}

const durationOf = (frames: Array<{ durationMs: number }>) => frames.reduce((n, f) => n + f.durationMs, 0);

export default async function () {
  const opusToInput = async () => durationOf(await toInputFormat(await decodePreConnectBuffer(webm, OPUS), 24000, 1));
  const cold = await timed(opusToInput);
  // 3 s of 48 kHz PCM, as the mobile SDKs send it.
  const pcm = new Uint8Array(new Int16Array(48000 * 3).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 220 * i) / 48000))).buffer);
  const PCM = { attributes: { trackId: 'TR_b', sampleRate: '48000', channels: '1' } };
  const pcmToInput = async () => durationOf(await toInputFormat(await decodePreConnectBuffer(pcm, PCM), 24000, 1));
  return {
    coldOpusMs: round(cold.ms),
    opusWebmTo24kMono: await median(opusToInput),
    pcm48kTo24kMono: await median(pcmToInput),
  };
}
