/**
 * TTS through the system `espeak-ng` program. espeak-ng is GPL: it runs as a separate process and is never
 * bundled or imported. Audio streams frame by frame as espeak writes it (its streamed WAV header carries a
 * placeholder length, so the reader simply goes to the end of the output).
 */
import { spawn, spawnSync } from 'node:child_process';
import { Observable } from 'rxjs';
import { shortId } from '../../llm/ids.ts';
import type { SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import { framesOf, parseWavHeader, type WavFormat } from '../../audio/pcm.ts';

export interface EspeakOptions {
  voice?: string;
  /** Words per minute (espeak default 175). */
  rate?: number;
  binaryPath?: string;
}

export class EspeakTTS implements TTS {
  readonly label: string;
  readonly sampleRate = 22050;
  readonly numChannels = 1;
  readonly capabilities: TTSCapabilities = { streaming: false, alignedTranscript: false };
  private readonly bin: string;

  constructor(readonly opts: EspeakOptions = {}) {
    this.bin = opts.binaryPath ?? 'espeak-ng';
    this.label = `espeak-ng/${opts.voice ?? 'en-us'}`;
  }

  /** Whether the program can be run here. */
  static isAvailable(binaryPath = 'espeak-ng'): boolean {
    const r = spawnSync(binaryPath, ['--version'], { stdio: 'ignore' });
    return !r.error && r.status === 0;
  }

  synthesize(text: string): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      const args = ['-v', this.opts.voice ?? 'en-us', '-s', String(this.opts.rate ?? 175), '--stdout', '--stdin'];
      const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const requestId = shortId('espeak_');
      let header: WavFormat | null = null;
      let pending = new Uint8Array(0);
      let last: SynthesizedAudio | null = null;
      let stderr = '';
      let finished = false;
      const emit = (a: SynthesizedAudio) => {
        if (last) sub.next(last); // hold one frame back so the final one can be marked
        last = a;
      };
      child.on('error', (e: NodeJS.ErrnoException) => {
        finished = true;
        sub.error(
          e.code === 'ENOENT'
            ? new Error(`${this.bin} is not installed: apt-get install espeak-ng (or pass binaryPath)`)
            : new Error(`espeak-ng failed to start: ${e.message}`),
        );
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()).slice(-2000));
      child.stdout.on('data', (d: Buffer) => {
        const joined = new Uint8Array(pending.length + d.length);
        joined.set(pending);
        joined.set(d, pending.length);
        pending = joined;
        try {
          if (!header) {
            header = parseWavHeader(pending);
            if (!header) return;
            pending = pending.slice(header.dataOffset);
          }
          const frameBytes = Math.round(header.sampleRate / 50) * 2 * header.channels;
          const whole = pending.length - (pending.length % frameBytes);
          if (!whole) return;
          const pcm = new Int16Array(pending.slice(0, whole).buffer);
          pending = pending.slice(whole);
          for (const frame of framesOf(pcm, header.sampleRate, header.channels)) emit({ frame, requestId });
        } catch (e) {
          finished = true;
          child.kill('SIGKILL');
          sub.error(e);
        }
      });
      child.on('close', (code) => {
        if (finished) return;
        finished = true;
        if (code !== 0) return sub.error(new Error(`espeak-ng exited with code ${code}: ${stderr.trim()}`));
        if (header && pending.length >= 2) {
          const pcm = new Int16Array(pending.slice(0, pending.length - (pending.length % 2)).buffer);
          for (const frame of framesOf(pcm, header.sampleRate, header.channels)) emit({ frame, requestId });
        }
        if (last) sub.next({ ...(last as SynthesizedAudio), final: true });
        sub.complete();
      });
      // Text goes through stdin: no shell, no argument parsing of user text.
      child.stdin.on('error', () => {});
      child.stdin.end(text.replace(/\u0000/g, ''));
      return () => {
        if (!finished) {
          finished = true;
          child.kill('SIGKILL');
        }
      };
    });
  }
}
