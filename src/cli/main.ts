/**
 * `voicechart <command>`: console, dev, start, connect (see usage.ts). A usage mistake prints one line and the
 * usage (exit 2); any other failure prints one line (exit 1); stack traces only with VOICECHART_DEBUG=1.
 */
import { parseCommandLine } from './args.ts';
import { USAGE, UsageError } from './usage.ts';
import { CliError } from './workerCommands.ts';

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv);
  if ('help' in args) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (args.command) {
    case 'console': {
      const { runConsole } = await import('./console.ts');
      return runConsole(args);
    }
    case 'start':
      return (await import('./workerCommands.ts')).runStart(args);
    case 'dev':
      return (await import('./dev.ts')).runDev(args, argv);
    case 'connect':
      return (await import('./connect.ts')).runConnect(args);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    if (e instanceof UsageError) {
      process.stderr.write(`voicechart: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    const known = e instanceof CliError;
    process.stderr.write(`voicechart: ${known || !process.env.VOICECHART_DEBUG ? e.message : (e.stack ?? e.message)}\n`);
    process.exit(1);
  },
);
