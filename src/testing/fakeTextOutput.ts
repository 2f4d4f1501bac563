import type { TextOutput } from '../io/types.ts';

/** Collects transcription text with the time each piece was released. */
export class FakeTextOutput implements TextOutput {
  readonly label = 'fake-text-output';
  readonly chunks: Array<{ text: string; at: number }> = [];
  readonly segments: string[] = [];
  private current = '';

  captureText(text: string): void {
    this.chunks.push({ text, at: Date.now() });
    this.current += text;
  }

  flush(): void {
    this.segments.push(this.current);
    this.current = '';
  }
}
