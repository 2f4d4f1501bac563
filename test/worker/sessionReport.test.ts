/** onSessionEnd against the real server: the report's contents, written as JSON, and the two-sided recording. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prettyLogger, silentLogger, type JobEnded } from '../../src/worker/index.ts';
import { haveServer, join, sessionAgentWorker, uniq, waitFor } from './lk.ts';

describe.skipIf(!haveServer)('session report (real LiveKit server)', () => {
  it('onSessionEnd gets ids, options, history with metrics, events, usage, times and close reason; recording writes both sides', async () => {
    const dir = mkdtempSync(joinPath(tmpdir(), 'vc-report-'));
    const name = uniq('report');
    const w = sessionAgentWorker(name, dir, { recording: true, logger: process.env.VC_TEST_LOG ? prettyLogger() : silentLogger });
    const ended: JobEnded[] = [];
    w.on('job_ended', (e) => ended.push(e));
    void w.start();
    const roomName = uniq('rep');
    const user = await join(roomName, uniq('u'), [{ agentName: name }]);
    try {
      const end = await waitFor(() => ended[0], 40_000, 'job ended');
      expect(end).toMatchObject({ outcome: 'success', reason: 'test finished', error: null });
      const file = joinPath(dir, `session-${end.job.id}.json`);
      const report = JSON.parse(readFileSync(file, 'utf8'));
      expect(report.jobId).toBe(end.job.id);
      expect(report.room).toBe(roomName);
      expect(report.roomId).toMatch(/^RM_/);
      expect(report.agentIdentity).toBe(`agent-${end.job.id}`);
      expect(report.closeReason).toBe('job_shutdown');
      expect(report.jobEndReason).toBe('test finished');
      expect(report.endedAt).toBeGreaterThan(report.startedAt);
      expect(report.durationMs).toBe(report.endedAt - report.startedAt);
      expect(report.options).toMatchObject({ turnDetection: 'manual', userAwayTimeout: null, maxToolSteps: 3 });
      const said = report.history.find((i: { type: string; role?: string }) => i.type === 'message' && i.role === 'assistant');
      expect(said.content.join('')).toBe('Hello from the report test.');
      expect(said.metrics.startedSpeakingAt).toBeGreaterThan(0);
      const types = new Set(report.events.map((e: { type: string }) => e.type));
      for (const t of ['agent_state_changed', 'user_state_changed', 'speech_created', 'conversation_item_added', 'close']) expect(types).toContain(t);
      expect(report.events.find((e: { type: string }) => e.type === 'speech_created').speechId).toBeTruthy();
      expect(report.usage.modelUsage).toContainEqual(expect.objectContaining({ type: 'tts', charactersCount: 27 }));
      expect(report.summary.timeline.length).toBeGreaterThan(0);
      // The VAD ran in the worker's inference host (shared inference, the default) and heard the recording: no
      // onnxruntime in the job process.
      expect(JSON.parse(readFileSync(joinPath(dir, `vad-${end.job.id}.json`), 'utf8'))).toEqual({ model: 'SileroSharedModel', onnxruntimeMapped: false });
      expect(report.events).toContainEqual(expect.objectContaining({ type: 'user_state_changed', newState: 'speaking' }));
      // The recording: stereo 24 kHz, the user's speech on the left, the agent's on the right.
      expect(report.audioRecordingPath).toBe(joinPath(dir, `session-${end.job.id}.wav`));
      expect(existsSync(report.audioRecordingPath)).toBe(true);
      const wav = readFileSync(report.audioRecordingPath);
      expect(wav.readUInt16LE(22)).toBe(2);
      expect(wav.readUInt32LE(24)).toBe(24000);
      const samples = new Int16Array(wav.buffer, wav.byteOffset + 44, (wav.length - 44) / 2);
      let left = 0;
      let right = 0;
      for (let i = 0; i < samples.length; i += 2) {
        left += Math.abs(samples[i]!);
        right += Math.abs(samples[i + 1]!);
      }
      expect(left).toBeGreaterThan(0);
      expect(right).toBeGreaterThan(0);
    } finally {
      await user.disconnect();
      await w.close();
    }
  }, 60_000);
});
