/** Several inspectors behind one `inspect` option (a session takes only one). */
import type { InspectionEvent } from 'xstate';
import type { Inspector } from './types.ts';

export function combineInspectors(...inspectors: Inspector[]): Inspector {
  return {
    inspect: (ev: InspectionEvent) => {
      for (const i of inspectors) {
        try {
          i.inspect(ev);
        } catch {
          // Inspectors promise not to throw; a foreign one that does must not hide the event from the others.
        }
      }
    },
    stop: async () => {
      const results = await Promise.allSettled(inspectors.map((i) => i.stop()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
