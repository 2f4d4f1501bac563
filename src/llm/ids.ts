import { randomUUID } from 'node:crypto';

/** Short random id with a readable prefix, e.g. `speech_3f9a1c2b7d10`. */
export function shortId(prefix: string): string {
  return prefix + randomUUID().replace(/-/g, '').slice(0, 12);
}
