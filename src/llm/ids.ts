import { randomUUID } from 'node:crypto';

/** Short random id with a readable prefix, e.g. `speech_3f9a1c2b7d10`. */
export function shortId(prefix: string): string {
  const u = randomUUID(); // xxxxxxxx-xxxx-…: the first 12 hex digits without the regex
  return prefix + u.slice(0, 8) + u.slice(9, 13);
}
