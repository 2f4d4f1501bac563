// The Echogarden WASM packages ship no type declarations; their default export is an Emscripten module factory.
declare module '@echogarden/speex-resampler-wasm' {
  const factory: () => Promise<unknown>;
  export default factory;
}
declare module '@echogarden/speex-resampler-wasm/simd' {
  const factory: () => Promise<unknown>;
  export default factory;
}
declare module '@echogarden/rnnoise-wasm' {
  const factory: () => Promise<unknown>;
  export default factory;
}
