import { parseArgs } from 'node:util';
import { runConsole } from './console.ts';

const USAGE = `usage: voicechart console [--text "line" ...] [--report file.json] [--quiet]

  console   run the example agent locally (no LiveKit server needed)
    --text    a typed user turn (repeatable); without it a scripted user speaks
    --report  where to write the JSON session report (default: voicechart-report.json)
    --quiet   print nothing but errors
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      text: { type: 'string', multiple: true },
      report: { type: 'string', default: 'voicechart-report.json' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'console') {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  return runConsole({ report: values.report!, text: values.text ?? [], quiet: values.quiet! });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`voicechart: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
