/**
 * Where a warm turn's end of turn → first frame goes: median time of each step of the pipeline, over many turns of
 * the core bench's session (driven VAD/STT, instant LLM/TTS). Marks come from the providers (LLM request, TTS
 * stream subscribed, first text at the TTS), session events and the output (first frame).
 *   node --import tsx bench/lib/warmPhases.ts [turns=1500] [warmup=500]
 */
import { Observable } from 'rxjs';
import { InstantLLM, InstantTTS } from './instant.ts';
import { measureTurns } from './turns.ts';
import { percentile, round } from './stats.ts';
import type { ChatChunk, SynthesizedAudio } from '../../src/providers/types.ts';

const [turns = 1500, warmup = 500] = process.argv.slice(2).map(Number);
let marks: Array<[string, number]> = [];
const mark = (s: string) => marks.push([s, performance.now()]);

class MarkedLLM extends InstantLLM {
  override chat(): Observable<ChatChunk> {
    mark('llm.chat() called');
    return super.chat();
  }
}
class MarkedTTS extends InstantTTS {
  override stream(text$: Observable<string>): Observable<SynthesizedAudio> {
    mark('tts.stream() subscribed');
    let first = true;
    return super.stream(new Observable<string>((o) => text$.subscribe({ next: (t) => (first && mark('first text at the TTS'), (first = false), o.next(t)), complete: () => (mark('text complete at the TTS'), o.complete()), error: (e) => o.error(e) })));
  }
}

const rows = new Map<string, number[]>();
let n = 0;
let subscribed = false;
await measureTurns(new MarkedLLM(), warmup + turns, new MarkedTTS(1), {
  beforeTurn: () => {
    marks = [];
    mark('end of turn (final transcript)');
  },
  afterFirstFrame: () => {
    mark('first frame at the output');
    if (n++ < warmup) return;
    for (let i = 1; i < marks.length; i++) {
      const k = `${marks[i - 1]![0]} → ${marks[i]![0]}`;
      if (!rows.has(k)) rows.set(k, []);
      rows.get(k)!.push(marks[i]![1] - marks[i - 1]![1]);
    }
    const total = `total`;
    if (!rows.has(total)) rows.set(total, []);
    rows.get(total)!.push(marks.at(-1)![1] - marks[0]![1]);
  },
  afterTurn: (s) => {
    if (subscribed) return;
    subscribed = true;
    s.on('user_input_transcribed', (e) => e.isFinal && mark('user_input_transcribed'));
    s.on('speech_created', () => mark('speech_created'));
    s.on('agent_state_changed', (e) => mark(`agent ${e.newState}`));
    s.on('conversation_item_added', () => mark('conversation_item_added'));
  },
});
const out = [...rows.entries()].map(([step, xs]) => ({ step, n: xs.length, p50Ms: round(percentile(xs, 50), 4) }));
console.log(JSON.stringify(out, null, 1));
process.exit(0);
