/** Live inspection of voicechart's actors: pass an inspector's `inspect` as the `inspect` option of a session. */
export type { Inspector, InspectionType } from './types.ts';
export { jsonlInspector, DROPPED_LINES_TYPE, type JsonlInspector, type JsonlInspectorOptions } from './jsonlInspector.ts';
export {
  stateChangeLog,
  formatStateChange,
  formatStateValue,
  type StateChange,
  type StateChangeLog,
  type StateChangeLogOptions,
} from './stateChangeLog.ts';
export {
  localWebSocketInspector,
  type LocalWebSocketInspector,
  type LocalWebSocketInspectorOptions,
} from './localWebSocketInspector.ts';
export { startInspectionRelay, type InspectionRelay, type InspectionRelayOptions } from './inspectionRelay.ts';
export { combineInspectors } from './combineInspectors.ts';
export { toInspectionRecord, type InspectionRecord, type RecordOptions } from './inspectionRecord.ts';
export { toSafeJson, type Json, type SafeJsonLimits } from './safeJson.ts';
export { actorName, actorPath } from './actorNames.ts';
