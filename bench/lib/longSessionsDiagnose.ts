/**
 * Leak diagnosis for long sessions (the scenario: 50 sessions open for a long while, then closed): heap
 * census before any session, after a first round of N concurrent sessions held open S seconds (one turn each) and
 * closed, and after a second identical round. Growth in round 1 only is a one-time cost; growth in round 2 is a leak.
 *   node --expose-gc --import tsx bench/lib/longSessionsDiagnose.ts [N=50] [S=60]
 */
import { Agent, AgentSession } from '../../src/index.ts';
import { FakeAudioOutput, silentAudio } from '../../src/testing/index.ts';
import { census, diff, retainers } from './heapCensus.ts';
import { DrivenSTT, DrivenVAD, InstantLLM, InstantTTS, vadEvent } from './instant.ts';
import { gc, sleep } from './stats.ts';

const [n = 50, seconds = 60] = process.argv.slice(2, 4).map(Number);
const settle = async () => {
  await sleep(50);
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

async function round(): Promise<void> {
  const all = Array.from({ length: n }, () => {
    const vad = new DrivenVAD();
    const stt = new DrivenSTT();
    const session = new AgentSession({ vad, stt, llm: new InstantLLM(), tts: new InstantTTS(5), turnHandling: { endpointing: { minDelay: 0, maxDelay: 0 } }, userAwayTimeout: null });
    session.output.audio = new FakeAudioOutput();
    session.input.audio = silentAudio({ sampleRate: 16000, frameMs: 20 });
    return { session, vad, stt };
  });
  for (const s of all) await s.session.start({ agent: new Agent({ instructions: 'bench' }) });
  const end = Date.now() + seconds * 1000;
  let turn = 0;
  while (Date.now() < end) {
    for (const s of all) {
      s.vad.events.next(vadEvent('start_of_speech'));
      s.vad.events.next(vadEvent('end_of_speech'));
      s.stt.events.next({ type: 'final_transcript', alternatives: [{ text: `question ${turn}` }] });
    }
    turn++;
    await sleep(5000);
  }
  for (const s of all) await s.session.close();
}

const h0 = await settle();
const c0 = await census();
c0.snap = null;
await round();
const h1 = await settle();
const c1 = await census();
c1.snap = null;
await round();
const h2 = await settle();
const c2 = await census();
const mb = (x: number) => (x / 2 ** 20).toFixed(2);
console.log(`heap before ${mb(h0)} MiB, after round 1 ${mb(h1)} MiB, after round 2 ${mb(h2)} MiB`);
console.log('\n== grew in round 1 (one-time or leak)');
for (const r of diff(c0, c1, 25)) console.log(`${String(r.grew).padStart(7)} (+${r.bytesGrew} B)  ${r.key}  ${r.before} → ${r.after}`);
console.log('\n== grew in round 2 (leak)');
const grown2 = diff(c1, c2, 25);
for (const r of grown2) console.log(`${String(r.grew).padStart(7)} (+${r.bytesGrew} B)  ${r.key}  ${r.before} → ${r.after}`);
for (const r of grown2.filter((x) => /^(object|closure):/.test(x.key)).slice(0, 4)) {
  console.log(`\n== retainers of ${r.key}`);
  for (const p of retainers(c2, r.key, 1, Math.floor((c2.counts.get(r.key)?.count ?? 0) - 1))) console.log('  ' + p.join('\n    '));
}
process.exit(0);
