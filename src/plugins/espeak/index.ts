/**
 * TTS through the system `espeak-ng` program. espeak-ng is GPL: it runs as a separate process and is never
 * bundled or imported. Audio streams frame by frame as espeak writes it (its streamed WAV header carries a
 * placeholder length, so the reader simply goes to the end of the output).
 */
import { spawn, spawnSync } from 'node:child_process';
import { Observable } from 'rxjs';
import { shortId } from '../../llm/ids.ts';
import type { SynthesizedAudio, TTS, TTSCapabilities } from '../../providers/types.ts';
import { readWav } from '../../audio/wav.ts';
import { markFinal } from '../../tts/markFinal.ts';

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
    return this.run(text).pipe(markFinal());
  }

  private run(text: string): Observable<SynthesizedAudio> {
    return new Observable<SynthesizedAudio>((sub) => {
      const args = ['-v', this.opts.voice ?? 'en-us', '-s', String(this.opts.rate ?? 175), '--stdout', '--stdin'];
      const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const requestId = shortId('espeak_');
      let stderr = '';
      let finished = false;
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const fail = (e: Error) => {
        if (finished) return;
        finished = true;
        child.kill('SIGKILL');
        sub.error(e);
      };
      child.on('error', (e: NodeJS.ErrnoException) =>
        fail(e.code === 'ENOENT' ? new Error(`${this.bin} is not installed: apt-get install espeak-ng (or pass binaryPath)`) : new Error(`espeak-ng failed to start: ${e.message}`)),
      );
      child.stderr.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
      const frames = readWav(child.stdout as AsyncIterable<Uint8Array>).subscribe({
        next: (frame) => sub.next({ frame, requestId }),
        error: (e: Error) => void exited.then((code) => fail(code ? new Error(`espeak-ng exited with code ${code}: ${stderr.trim()}`) : e)),
        complete: () =>
          void exited.then((code) => {
            if (finished) return;
            if (code !== 0) return fail(new Error(`espeak-ng exited with code ${code}: ${stderr.trim()}`));
            finished = true;
            sub.complete();
          }),
      });
      // Text goes through stdin: no shell, no argument parsing of user text.
      child.stdin.on('error', () => {});
      child.stdin.end(text.replace(/\u0000/g, ''));
      return () => {
        frames.unsubscribe();
        if (!finished) {
          finished = true;
          child.kill('SIGKILL');
        }
      };
    });
  }
}
