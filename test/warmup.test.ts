import { describe, expect, it } from 'vitest';
import { warmUp } from '../src/warmup.ts';

const resources = () => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').sort();

describe('warmUp', () => {
  it('runs one turn per mode through a real session to the output, and leaves no timers or handles behind', async () => {
    const before = resources();
    const r = await warmUp();
    expect(Object.keys(r.turns)).toEqual(['vad', 'stt']);
    for (const ms of Object.values(r.turns)) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0);
    }
    expect(r.ms).toBeGreaterThanOrEqual(r.turns.vad! + r.turns.stt!);
    expect(resources()).toEqual(before);
  });

  it('warms only the modes asked for, through the resampler when the output asks for another rate', async () => {
    const r = await warmUp({ modes: ['stt'], outputSampleRate: 48000 });
    expect(Object.keys(r.turns)).toEqual(['stt']);
    expect(Number.isFinite(r.turns.stt)).toBe(true);
  });
});
