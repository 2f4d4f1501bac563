/** The framework version reported to the server and written into session reports (kept apart from protocol.ts so job processes need not load the server SDK). */
export const SDK_VERSION = '0.1.0';
