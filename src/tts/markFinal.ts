import { Observable, type OperatorFunction } from 'rxjs';
import type { SynthesizedAudio } from '../providers/types.ts';

/**
 * Marks the last frame of a synthesis `final` without delaying the first: the first frame goes out at once
 * (time to first audio is what the user hears), later ones one frame behind so the last can be flagged.
 * A synthesis of a single frame therefore carries no `final` flag.
 */
export function markFinal(): OperatorFunction<SynthesizedAudio, SynthesizedAudio> {
  return (source) =>
    new Observable<SynthesizedAudio>((sub) => {
      let first = true;
      let held: SynthesizedAudio | null = null;
      return source.subscribe({
        next: (a) => {
          if (first) {
            first = false;
            return sub.next(a);
          }
          if (held) sub.next(held);
          held = a;
        },
        error: (e) => sub.error(e),
        complete: () => {
          if (held) sub.next({ ...held, final: true });
          sub.complete();
        },
      });
    });
}
