/** Whether a WAV file holds less sample data than its header declares (a cut-off recording or copy). */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** A description of what is missing, or null when the file is whole (or has a streaming placeholder length). */
export function wavTruncation(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null; // the reader reports a missing file itself
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, head, 0, head.length, 0);
    if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF') return null;
    let at = 12;
    while (at + 8 <= head.length) {
      const id = head.toString('ascii', at, at + 4);
      const len = head.readUInt32LE(at + 4);
      if (id === 'data') {
        if (len === 0 || len >= 0x7ffff000) return null; // placeholder of a streaming encoder
        const have = size - (at + 8);
        return have < len ? `header declares ${len} bytes of audio, the file has ${have}` : null;
      }
      at += 8 + len + (len % 2);
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
