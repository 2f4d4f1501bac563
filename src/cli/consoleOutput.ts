import type { TextOutput } from '../io/types.ts';

/** Prints the agent's words as they are spoken (paced by the transcript synchroniser). */
export class TerminalTranscript implements TextOutput {
  readonly label = 'terminal';
  private open = false;
  constructor(private readonly write: (s: string) => void = (s) => process.stdout.write(s)) {}

  captureText(text: string): void {
    if (!this.open) {
      this.write('  agent › ');
      this.open = true;
    }
    this.write(text);
  }

  flush(): void {
    if (this.open) this.write('\n');
    this.open = false;
  }
}
