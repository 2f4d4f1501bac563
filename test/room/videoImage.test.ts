import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { ChatContext, createMessage } from '../../src/llm/chatContext.ts';
import { ImageFormatError } from '../../src/llm/image.ts';
import { toWireMessages } from '../../src/plugins/openai/chatFormat.ts';
import { MAX_IMAGE_SIDE, rgbaToJpegDataUrl } from '../../src/plugins/openai/imageFormat.ts';
import { resolveVideoSampler, VoiceActivityVideoSampler } from '../../src/room/videoSampler.ts';

const solid = (w: number, h: number, rgb: [number, number, number]) => {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.set([...rgb, 255], i * 4);
  return { width: w, height: h, rgba };
};
const decode = (url: string) => jpeg.decode(Buffer.from(url.split(',')[1]!, 'base64'));

describe('image content for the OpenAI format', () => {
  it('a raw frame becomes a JPEG data URL of the same picture; big frames are scaled to the longest side limit', () => {
    const small = decode(rgbaToJpegDataUrl(solid(40, 30, [10, 200, 10])));
    expect([small.width, small.height]).toEqual([40, 30]);
    expect(Math.abs(small.data[1]! - 200)).toBeLessThan(15);
    const big = decode(rgbaToJpegDataUrl(solid(2048, 1024, [0, 0, 250])));
    expect([big.width, big.height]).toEqual([MAX_IMAGE_SIDE, MAX_IMAGE_SIDE / 2]);
  });

  it('bad frames give a clear error: wrong buffer length, bad sizes, oversized, bad URL', () => {
    expect(() => rgbaToJpegDataUrl({ width: 4, height: 4, rgba: new Uint8Array(10) })).toThrow(/needs 64 bytes, got 10/);
    expect(() => rgbaToJpegDataUrl({ width: 0, height: 4, rgba: new Uint8Array(0) })).toThrow(ImageFormatError);
    expect(() => rgbaToJpegDataUrl({ width: 9000, height: 10, rgba: new Uint8Array(9000 * 40) })).toThrow(/too large/);
    const ctx = new ChatContext([{ ...createMessage('user', 'look'), images: [{ type: 'image_content', id: 'i1', image: 'file:///etc/passwd' }] }]);
    expect(() => toWireMessages(ctx)).toThrow(/http\(s\) or a data:image URL/);
  });

  it('a user message with images is sent as text and image parts; without images it stays a string', () => {
    const ctx = new ChatContext([
      createMessage('user', 'plain'),
      { ...createMessage('user', 'with picture'), images: [{ type: 'image_content', id: 'i1', image: 'https://example.test/cat.jpg' }] },
    ]);
    expect(toWireMessages(ctx)).toEqual([
      { role: 'user', content: 'plain' },
      { role: 'user', content: [{ type: 'text', text: 'with picture' }, { type: 'image_url', image_url: { url: 'https://example.test/cat.jpg' } }] },
    ]);
  });
});

describe('VoiceActivityVideoSampler', () => {
  const run = (speakingAt: (t: number) => boolean, ms: number, fps = 10) => {
    const s = resolveVideoSampler(undefined)!;
    const kept: number[] = [];
    for (let t = 0; t < ms; t += 1000 / fps) if (s({ width: 1, height: 1, receivedAt: t }, { userSpeaking: speakingAt(t) })) kept.push(t);
    return kept;
  };

  it('keeps the first frame, then ~0.3 fps while silent and 1 fps while the user speaks', () => {
    expect(run(() => false, 10_000)).toEqual([0, 3400, 6800]);
    expect(run(() => true, 5000)).toEqual([0, 1000, 2000, 3000, 4000]);
    // Silent, then speaking from 5 s: the first speaking frame comes once a second has passed since the last kept.
    expect(run((t) => t >= 5000, 8000)).toEqual([0, 3400, 5000, 6000, 7000]);
  });

  it('rejects bad rates and sampler values', () => {
    expect(() => new VoiceActivityVideoSampler({ speakingFps: 0 })).toThrow(/speakingFps must be a positive number/);
    expect(() => resolveVideoSampler(42 as never)).toThrow(/videoSampler must be/);
    expect(resolveVideoSampler(null)).toBeNull();
  });
});
