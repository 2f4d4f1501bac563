/** Checks on images in chat messages (raw RGBA frames), shared by the video input and the provider plugins. */
import type { RgbaImage } from './chatContext.ts';

/** Frames beyond this are refused outright: no camera sends them, and they would cost a lot to encode. */
export const MAX_INPUT_SIDE = 8192;

export class ImageFormatError extends Error {
  override name = 'ImageFormatError';
}

export function validateRgba(img: RgbaImage): void {
  const { width, height, rgba } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageFormatError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (width > MAX_INPUT_SIDE || height > MAX_INPUT_SIDE) throw new ImageFormatError(`image of ${width}×${height} is too large (limit ${MAX_INPUT_SIDE} per side)`);
  if (!(rgba instanceof Uint8Array) || rgba.length !== width * height * 4) {
    throw new ImageFormatError(`RGBA image of ${width}×${height} needs ${width * height * 4} bytes, got ${rgba?.length}`);
  }
}

