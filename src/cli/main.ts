import { parseArgs } from 'node:util';
import { runConsole } from './console.ts';

const USAGE = `usage: voicechart console [--text "line" ...] [--tts flite|espeak|silent] [--output speech.wav]
                          [--report file.json] [--quiet]

  console   run the example agent locally (no LiveKit server needed)
    --input   a WAV file played in real time as the user's microphone (real Silero VAD)
              (--input default: examples/sample-input.wav)
    --text    a typed user turn (repeatable); without it a scripted user speaks
    --tts     flite: embedded (default); espeak: the system espeak-ng program; silent: no synthesis
    --output  WAV file receiving the agent's speech as heard (default: voicechart-agent.wav)
    --report  JSON session report (default: voicechart-report.json)
    --llm-base-url URL  an OpenAI-compatible server for the LLM (Ollama, vLLM, llama.cpp server)
    --llm-model NAME    the model to ask (defaults: gpt-4.1-mini, llama-3.3-70b-versatile on Groq, llama3.2 local)
    --quiet   print nothing but errors
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      text: { type: 'string', multiple: true },
      input: { type: 'string' },
      report: { type: 'string', default: 'voicechart-report.json' },
      output: { type: 'string', default: 'voicechart-agent.wav' },
      tts: { type: 'string', default: 'flite' },
      'llm-base-url': { type: 'string' },
      'llm-model': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'console') {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const tts = values.tts as 'flite' | 'espeak' | 'silent';
  if (!['flite', 'espeak', 'silent'].includes(tts)) {
    process.stderr.write(`voicechart: --tts must be flite, espeak or silent\n`);
    return 2;
  }
  return runConsole({
    report: values.report!,
    output: values.output!,
    tts,
    text: values.text ?? [],
    input: values.input === 'default' ? 'examples/sample-input.wav' : values.input,
    quiet: values.quiet!,
    llmBaseUrl: values['llm-base-url'],
    llmModel: values['llm-model'],
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`voicechart: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
