/** Worker logs: readable lines for `dev`, one JSON object per line for `start` (level, time, msg, fields). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Logger = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l), min: LogLevel = 'info'): Logger {
  return (level, msg, fields = {}) => {
    if (ORDER[level] < ORDER[min]) return;
    write(`${JSON.stringify({ level, time: new Date().toISOString(), pid: process.pid, msg, ...fields })}\n`);
  };
}

export function prettyLogger(write: (line: string) => void = (l) => process.stderr.write(l), min: LogLevel = 'info'): Logger {
  const color = process.stderr.isTTY ? { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' } : null;
  return (level, msg, fields = {}) => {
    if (ORDER[level] < ORDER[min]) return;
    const t = new Date().toISOString().slice(11, 23);
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    const lvl = level.toUpperCase().padEnd(5);
    write(`${t} ${color ? `${color[level]}${lvl}\x1b[0m` : lvl} ${msg}${extra ? `  ${extra}` : ''}\n`);
  };
}

export const silentLogger: Logger = () => {};
