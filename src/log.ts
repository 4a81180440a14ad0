// The agent's logger: one line per record on stderr, `time level [component] message key=value`.
// Kept tiny on purpose; secrets must never be passed in (see redact()).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string, level: LogLevel) => void;

let threshold: LogLevel = (process.env.NETWATCH_LOG_LEVEL as LogLevel) in ORDER ? (process.env.NETWATCH_LOG_LEVEL as LogLevel) : 'info';
let sink: LogSink = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}
/** Replace where log lines go (tests capture them to check that secrets never appear). */
export function setLogSink(next: LogSink): void {
  sink = next;
}

function fmtValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

export class Logger {
  constructor(readonly component: string) {}
  child(component: string): Logger {
    return new Logger(`${this.component}/${component}`);
  }
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[threshold];
  }
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${this.component}] ${msg}`;
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
    sink(line, level);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }
}

export const rootLogger = new Logger('netwatch');
