/** Speech scopes: user code sees its scope across awaits; the storage is switched off once no scoped code runs. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inSpeechScope, speechScope, type SpeechScope } from '../src/session/speechContext.ts';

const scope = (name: string): SpeechScope => ({ activity: name, handle: null, inTool: false });
afterEach(() => vi.restoreAllMocks());

describe('inSpeechScope', () => {
  it('keeps the scope across awaits, nests, and switches the storage off only when the outermost call settles', async () => {
    const disable = vi.spyOn(speechScope, 'disable');
    const seen: unknown[] = [];
    let releaseInner!: () => void;
    const outer = inSpeechScope(scope('outer'), async () => {
      seen.push(speechScope.getStore()?.activity);
      await new Promise((r) => setTimeout(r, 1));
      const inner = inSpeechScope(scope('inner'), () => new Promise<void>((r) => (releaseInner = r)).then(() => seen.push(speechScope.getStore()?.activity)));
      seen.push(speechScope.getStore()?.activity);
      return inner;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(disable).not.toHaveBeenCalled();
    releaseInner();
    await outer;
    await Promise.resolve();
    expect(seen).toEqual(['outer', 'outer', 'inner']);
    expect(disable).toHaveBeenCalledTimes(1);
    expect(speechScope.getStore()).toBeUndefined();
    // It works again after being switched off.
    expect(await inSpeechScope(scope('again'), async () => speechScope.getStore()?.activity)).toBe('again');
  });

  it('releases a synchronous call and one that throws', () => {
    const disable = vi.spyOn(speechScope, 'disable');
    expect(inSpeechScope(scope('sync'), () => speechScope.getStore()?.activity)).toBe('sync');
    expect(() => inSpeechScope(scope('x'), () => { throw new Error('boom'); })).toThrow('boom');
    expect(disable).toHaveBeenCalledTimes(2);
  });
});
