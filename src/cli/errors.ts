// How the CLI reports an error and which exit code it uses:
// 2 = invalid configuration, 1 = any other failure.
import { ConfigError, InternalError, NetwatchError } from '../errors';

export const EXIT_CONFIG = 2;
export const EXIT_FAILURE = 1;

export function reportError(err: unknown, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (err instanceof ConfigError) {
    write(`${err.message}\n`);
    return EXIT_CONFIG;
  }
  // A bug: the stack is what a report needs.
  if (err instanceof InternalError) {
    write(`${err.code}: ${err.stack ?? err.message}\n`);
    return EXIT_FAILURE;
  }
  if (err instanceof NetwatchError) {
    write(`${err.code}: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  write(`netwatch: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT_FAILURE;
}
