import { Observable, type MonoTypeOperatorFunction, type Subscription } from 'rxjs';

/**
 * Holds values back until `gate()` resolves (asked at the first value; null means open now, with no microtask in
 * the way): `true` releases them in order and passes the rest straight through; `false` drops them and completes.
 * Completion and errors wait behind the held values. Unsubscribing drops them.
 */
export function holdUntil<T>(gate: () => Promise<boolean> | null): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((sub) => {
      let open = false;
      let asked = false;
      let closed = false;
      const held: T[] = [];
      let end: { error: unknown } | 'complete' | null = null;
      let inner: Subscription | undefined;
      const release = (pass: boolean) => {
        if (closed) return;
        if (!pass) {
          held.length = 0;
          inner?.unsubscribe();
          return sub.complete();
        }
        open = true;
        for (const v of held.splice(0)) sub.next(v);
        if (end === 'complete') sub.complete();
        else if (end) sub.error(end.error);
      };
      inner = source.subscribe({
        next: (v) => {
          if (open) return sub.next(v);
          held.push(v);
          if (!asked) {
            asked = true;
            const g = gate();
            if (g === null) release(true);
            else g.then(release, (e) => sub.error(e));
          }
        },
        error: (e) => (open || !asked ? sub.error(e) : (end = { error: e })),
        complete: () => (open || !asked ? sub.complete() : (end = 'complete')),
      });
      return () => {
        closed = true;
        held.length = 0;
        inner?.unsubscribe();
      };
    });
}
