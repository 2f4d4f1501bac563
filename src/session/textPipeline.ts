import type { TextTransform } from '../transcription/textTransforms.ts';

/** A built-in transform name or a custom streaming transform. */
export type TextTransformName = 'filter_markdown' | 'filter_emoji' | TextTransform;
export { resolveTextTransforms } from '../transcription/textTransforms.ts';
