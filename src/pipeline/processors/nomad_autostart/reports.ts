// Problems a person must fix are logged once, not once per event: a key stays reported until
// cleared (by a success, or a reload, which builds a new processor).
import type { LogLevel, Logger } from '../../../log';

export class Reports {
  private readonly reported = new Set<string>();

  constructor(private readonly log: Logger) {}

  /** Logs and returns true the first time `key` is reported. */
  once(key: string, level: LogLevel, message: string, fields?: Record<string, unknown>): boolean {
    if (this.reported.has(key)) return false;
    this.reported.add(key);
    this.log.log(level, message, fields);
    return true;
  }

  has(key: string): boolean {
    return this.reported.has(key);
  }

  /** Forget `key`; returns whether it had been reported. */
  clear(key: string): boolean {
    return this.reported.delete(key);
  }
}
