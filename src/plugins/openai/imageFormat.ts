/** Images in the OpenAI chat format: raw RGBA frames become JPEG data URLs (jpeg-js), URLs pass through. */
import jpeg from 'jpeg-js';
import type { ImageContent, RgbaImage } from '../../llm/chatContext.ts';
import { ImageFormatError, validateRgba } from '../../llm/image.ts';

/** Longest side sent to the model; bigger frames are scaled down (the API would do it anyway, at our upload cost). */
export const MAX_IMAGE_SIDE = 1024;
const JPEG_QUALITY = 80;

/** Nearest-neighbour scale so the longest side is at most `max`. */
function fit(img: RgbaImage, max: number): RgbaImage {
  const scale = Math.min(1, max / Math.max(img.width, img.height));
  if (scale === 1) return img;
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(y / scale));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(x / scale));
      out.set(img.rgba.subarray((sy * img.width + sx) * 4, (sy * img.width + sx) * 4 + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, rgba: out };
}

/** A JPEG data URL for the image (validated and scaled to at most MAX_IMAGE_SIDE). */
export function rgbaToJpegDataUrl(img: RgbaImage): string {
  validateRgba(img);
  const f = fit(img, MAX_IMAGE_SIDE);
  const encoded = jpeg.encode({ data: f.rgba, width: f.width, height: f.height }, JPEG_QUALITY);
  return `data:image/jpeg;base64,${Buffer.from(encoded.data).toString('base64')}`;
}

export function imageUrl(c: ImageContent): string {
  if (typeof c.image === 'string') {
    if (!/^(https?:|data:image\/)/.test(c.image)) throw new ImageFormatError(`image ${c.id}: a URL must be http(s) or a data:image URL`);
    return c.image;
  }
  return rgbaToJpegDataUrl(c.image);
}
