import type { AudioFrame } from '../audio/frame.ts';

export interface LeadGate {
  /** A live frame: passed on once the lead is in, held (in order) until then. */
  live(frame: AudioFrame): void;
  /** Drops what is held; a lead that arrives later is ignored. */
  close(): void;
}

/**
 * Puts a track's lead audio (its pre-connect recording) into the input stream before the track's live frames.
 * The live track starts while the recording may still be on its way, so its frames wait here: when the lead
 * settles, its frames go first, then the held live frames, then live frames pass straight through. A lead that
 * fails goes to `onError` and the live frames flow all the same.
 */
export function leadGate(lead: Promise<AudioFrame[]>, push: (frame: AudioFrame) => void, onError: (e: Error) => void): LeadGate {
  // 'holding' until the lead settles, then 'open'; 'closed' once the track is gone.
  let state: 'holding' | 'open' | 'closed' = 'holding';
  let held: AudioFrame[] = [];
  const open = (first: AudioFrame[]) => {
    if (state !== 'holding') return;
    state = 'open';
    const queued = held;
    held = [];
    for (const f of first) push(f);
    for (const f of queued) push(f);
  };
  lead.then(open, (e: unknown) => {
    if (state === 'holding') onError(e instanceof Error ? e : new Error(String(e)));
    open([]);
  });
  return {
    live(frame) {
      if (state === 'open') push(frame);
      else if (state === 'holding') held.push(frame);
    },
    close() {
      state = 'closed';
      held = [];
    },
  };
}
