/** `voicechart/testing`: scripted fakes driven by one timeline, for tests in virtual time. */
export { UserSpeechScript, FakeVAD, FakeSTT, type ScriptedUtterance, type FakeVADOptions } from './userSpeech.ts';
export { FakeLLM, fakeLlmKey, type FakeLLMResponse } from './fakeLlm.ts';
export { FakeTTS, type FakeTTSResponse } from './fakeTts.ts';
export { FakeAudioOutput } from './fakeAudioOutput.ts';
export { FakeTextOutput } from './fakeTextOutput.ts';
export { silentAudio } from './silentAudio.ts';
export { recordEvents, type EventRecorder } from './recorder.ts';
export { watchInvariants, formatViolation, type InvariantMonitor, type InvariantMonitorOptions, type InvariantName, type Violation } from './invariantMonitor.ts';
export { TracedTTS, MonitoredAudioOutput, heardWordCount, comparableWords, type Synthesis } from './playbackTrace.ts';
export { trackActors, type ActorTracker } from './actorTracker.ts';
export {
  FaultPlan,
  FaultyLLM,
  FaultyTTS,
  FaultySTT,
  withFault,
  scriptedTool,
  noiseBurst,
  StallingAudioOutput,
  BROKEN_JSON_ARGUMENTS,
  type StreamFault,
  type ToolBehaviour,
  type ScriptedTool,
} from './faults.ts';
export { RunResult, RunError } from './runResult.ts';
export { describeEvent, formatEvents, type RunEvent, type RunEventType, type ChatMessageEvent, type FunctionCallEvent, type FunctionCallOutputEvent, type AgentHandoffEvent } from './runEvents.ts';
export {
  RunExpect,
  RunAssertionError,
  EventAssert,
  MatchedEvent,
  MessageAssert,
  EventRangeAssert,
  type FunctionCallAssert,
  type FunctionCallOutputAssert,
  type AgentHandoffAssert,
  type MessageExpectation,
  type FunctionCallExpectation,
  type FunctionCallOutputExpectation,
  type AgentHandoffExpectation,
} from './runExpect.ts';
export { judgeMessage, judgeContext, JudgeError, JUDGE_TOOL, type Verdict } from './judge.ts';
