/** Parses the command line into one command and its options; every mistake is a UsageError naming it. */
import { parseArgs } from 'node:util';
import { UsageError } from './usage.ts';

export const WORKER_OPTIONS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'api-secret': { type: 'string' },
  'agent-name': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'num-idle-processes': { type: 'string' },
  'http-port': { type: 'string' },
  'http-host': { type: 'string' },
  'no-shared-inference': { type: 'boolean' },
  room: { type: 'string' },
  'participant-identity': { type: 'string' },
  // Internal: a worker started by `dev` (dev defaults, readable logs).
  'dev-child': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONSOLE_OPTIONS = {
  text: { type: 'string', multiple: true },
  input: { type: 'string' },
  report: { type: 'string', default: 'voicechart-report.json' },
  output: { type: 'string', default: 'voicechart-agent.wav' },
  tts: { type: 'string', default: 'flite' },
  'llm-base-url': { type: 'string' },
  'llm-model': { type: 'string' },
  'stt-base-url': { type: 'string' },
  'stt-model': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMANDS = ['console', 'dev', 'start', 'connect'] as const;
export type Command = (typeof COMMANDS)[number];

export interface WorkerArgs {
  command: 'dev' | 'start' | 'connect';
  agentFile: string;
  url?: string;
  apiKey?: string;
  apiSecret?: string;
  agentName?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  logFormat: 'pretty' | 'json';
  drainTimeout?: number;
  numIdleProcesses?: number;
  httpPort?: number;
  httpHost?: string;
  /** --no-shared-inference: every job process loads its own Silero. */
  sharedInference?: boolean;
  room?: string;
  participantIdentity?: string;
  devChild: boolean;
}

export interface ConsoleArgs {
  command: 'console';
  text: string[];
  input?: string;
  report: string;
  output: string;
  tts: 'flite' | 'espeak' | 'silent';
  llmBaseUrl?: string;
  llmModel?: string;
  sttBaseUrl?: string;
  sttModel?: string;
  quiet: boolean;
}

export type Parsed = { help: true } | WorkerArgs | ConsoleArgs;

export function parseCommandLine(argv: string[]): Parsed {
  if (argv.length === 0) throw new UsageError('no command given');
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') return { help: true };
  if (!(COMMANDS as readonly string[]).includes(command!)) throw new UsageError(`unknown command "${command}" (commands: ${COMMANDS.join(', ')})`);
  const spec = command === 'console' ? CONSOLE_OPTIONS : WORKER_OPTIONS;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: spec, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's messages are clear but long ("Unknown option '--x'. To specify a positional argument…"): keep the first sentence.
    throw new UsageError(`${command}: ${(e as Error).message.split('. ')[0]!.replace(/\.$/, '')}`);
  }
  const v = parsed.values as Record<string, unknown>;
  if (v.help) return { help: true };
  if (command === 'console') {
    if (parsed.positionals.length) throw new UsageError(`console takes no agent file (it runs the example agent), got "${parsed.positionals[0]}"`);
    const tts = v.tts as string;
    if (!['flite', 'espeak', 'silent'].includes(tts)) throw new UsageError(`--tts must be flite, espeak or silent, got "${tts}"`);
    return {
      command,
      text: (v.text as string[] | undefined) ?? [],
      input: v.input === 'default' ? 'examples/sample-input.wav' : (v.input as string | undefined),
      report: v.report as string,
      output: v.output as string,
      tts: tts as ConsoleArgs['tts'],
      llmBaseUrl: v['llm-base-url'] as string | undefined,
      llmModel: v['llm-model'] as string | undefined,
      sttBaseUrl: v['stt-base-url'] as string | undefined,
      sttModel: v['stt-model'] as string | undefined,
      quiet: v.quiet as boolean,
    };
  }
  const [agentFile, ...extra] = parsed.positionals;
  if (!agentFile) throw new UsageError(`${command} needs an agent file (voicechart ${command} agent.ts)`);
  if (extra.length) throw new UsageError(`${command}: unexpected argument "${extra[0]}"`);
  if (command === 'connect' && !v.room) throw new UsageError('connect needs --room <name>');
  if (command !== 'connect' && (v.room || v['participant-identity'])) throw new UsageError(`--room and --participant-identity are for connect, not ${command}`);
  const level = (v['log-level'] as string | undefined) ?? (command === 'dev' || v['dev-child'] ? 'debug' : 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error, got "${level}"`);
  const format = (v['log-format'] as string | undefined) ?? (command === 'start' && !v['dev-child'] ? 'json' : 'pretty');
  if (!['pretty', 'json'].includes(format)) throw new UsageError(`--log-format must be pretty or json, got "${format}"`);
  return {
    command: command as WorkerArgs['command'],
    agentFile,
    url: v.url as string | undefined,
    apiKey: v['api-key'] as string | undefined,
    apiSecret: v['api-secret'] as string | undefined,
    agentName: v['agent-name'] as string | undefined,
    logLevel: level as WorkerArgs['logLevel'],
    logFormat: format as WorkerArgs['logFormat'],
    drainTimeout: intOption('--drain-timeout', v['drain-timeout']),
    numIdleProcesses: intOption('--num-idle-processes', v['num-idle-processes']),
    httpPort: intOption('--http-port', v['http-port']),
    httpHost: v['http-host'] as string | undefined,
    sharedInference: v['no-shared-inference'] ? false : undefined,
    room: v.room as string | undefined,
    participantIdentity: v['participant-identity'] as string | undefined,
    devChild: (v['dev-child'] as boolean | undefined) ?? false,
  };
}

function intOption(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number ≥ 0, got "${v}"`);
  return n;
}
