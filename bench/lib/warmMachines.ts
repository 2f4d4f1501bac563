/**
 * The statecharts alone on a warm turn of the core bench: the activity and user-turn machines (wired as the
 * session wires them: the user turn's commit goes to the activity, its acceptance back) replay one turn's events,
 * user speech → final transcript → commit → reply enqueued → authorised → playing → done, many times. Reports µs
 * per turn for the end of turn → playback part (what the end-to-end turn latency pays for the machines), and the
 * CPU time of whole turns.
 *   node --import tsx bench/lib/warmMachines.ts [turns=20000] [warmup=5000]
 */
import { createActor } from 'xstate';
import { activityMachine } from '../../machines/activity.ts';
import { DEFAULT_BACKCHANNEL_PHRASES } from '../../machines/backchannel.ts';
import { userTurnMachine } from '../../machines/userTurn.ts';
import { countWords } from '../../machines/words.ts';
import { percentile, round } from './stats.ts';

export function replayTurns(turns: number, warmup: number): { turns: number; p50Us: number; meanUs: number; cpuUsPerTurn: number } {
  let accepted = 0;
  const activity = createActor(
    activityMachine.provide({ actions: { acceptTurn: () => void accepted++, aecWarmupStarted: () => {} } }),
    {
      input: {
        minConsecutiveSpeechDelay: 0,
        interruption: { mode: 'vad', minDuration: 500, minWords: 0, hasStt: true, speaking: {}, thinking: {} },
        backchannel: DEFAULT_BACKCHANNEL_PHRASES,
        aecWarmup: 0,
        pauseEnabled: false,
        falseInterruptionTimeout: 2000,
        tools: [],
      },
    },
  );
  const userTurn = createActor(userTurnMachine, {
    input: { mode: 'vad', hasStt: true, minDelay: 0, maxDelay: 0, detector: null, now: 0, endpointing: { mode: 'fixed', alpha: 0.9 }, userTurnLimit: {} },
  });
  userTurn.on('endOfTurn', ({ info }) => {
    const ev = { type: 'END_OF_TURN' as const, words: countWords(info.transcript), transcript: info.transcript, current: null, info };
    if (activity.getSnapshot().can(ev)) activity.send(ev);
    userTurn.send({ type: 'TURN_ACCEPTED' });
  });
  activity.start();
  userTurn.start();
  activity.send({ type: 'STARTED' });
  const samples: number[] = [];
  let now = 1_000_000;
  let cpu0 = process.cpuUsage();
  for (let i = 0; i < warmup + turns; i++) {
    if (i === warmup) cpu0 = process.cpuUsage();
    now += 1000;
    userTurn.send({ type: 'VAD_SPEECH_START', at: now - 300, now });
    activity.send({ type: 'USER_SPEECH_START', current: null });
    now += 200;
    userTurn.send({ type: 'VAD_SPEECH_END', at: now - 100, now });
    activity.send({ type: 'USER_SPEECH_END' });
    now += 5;
    const t0 = performance.now();
    // end of turn → first frame: what recognition, the turn pipeline and the reply send
    userTurn.send({ type: 'FINAL_TRANSCRIPT', text: `question ${i}`, at: now });
    activity.send({ type: 'FINAL_TRANSCRIPT', words: 2, transcript: `question ${i}`, current: null });
    const id = `s${i}`;
    activity.send({ type: 'SPEECH_ENQUEUED', id, priority: 1, kind: 'reply' });
    activity.send({ type: 'PLAYBACK_STARTED', id });
    const t1 = performance.now();
    activity.send({ type: 'STEP_DONE', id });
    activity.send({ type: 'SPEECH_DONE', id });
    if (i >= warmup) samples.push((t1 - t0) * 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  if (accepted !== warmup + turns) throw new Error(`replay: ${accepted} turns accepted of ${warmup + turns}`);
  if (activity.getSnapshot().value.agent !== 'listening') throw new Error('replay: the agent did not return to listening');
  return {
    turns,
    p50Us: round(percentile(samples, 50), 2),
    meanUs: round(samples.reduce((a, b) => a + b, 0) / samples.length, 2),
    // CPU time of whole turns (speech start to speech done), less disturbed by other processes than wall time.
    cpuUsPerTurn: round((cpu.user + cpu.system) / turns, 2),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [turns = 20000, warmup = 5000] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(replayTurns(turns, warmup)));
  process.exit(0);
}
