// Route libbpf's own log lines into the agent's logger, and keep the lines of the current load
// so a verifier rejection can carry its log.
import koffi from 'koffi';
import { Logger, rootLogger } from '../log';
import { bpf, c, PrintFn } from './libbpf';

/** enum libbpf_print_level (libbpf.h): WARN, INFO, then DEBUG. */
const LIBBPF_WARN = 0;
const LIBBPF_INFO = 1;

const log: Logger = rootLogger.child('libbpf');
/** libbpf brackets a rejected program's verifier log with these lines (libbpf.c, bpf_object_load_prog). */
export const LOG_BEGIN = '-- BEGIN PROG LOAD LOG --';
export const LOG_END = '-- END PROG LOAD LOG --';
let capture: string[] | null = null;
let registered: unknown = null;

function onPrint(level: number, fmt: bigint, args: bigint): number {
  const out = [0n];
  const n = c.vasprintf(out, fmt, args) as number;
  if (n < 0 || !out[0]) return 0;
  const text = koffi.decode(out[0], 'char', n) as string;
  c.free(out[0]);
  if (capture) capture.push(text);
  if (capture && text.includes(LOG_BEGIN)) {
    // The verifier log can run to thousands of lines: it travels on the VerifierError instead.
    log.warn(`verifier log (${text.split('\n').length} lines) attached to the load error`);
    return n;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (level === LIBBPF_WARN) log.warn(line.replace(/^libbpf: /, ''));
    else if (level === LIBBPF_INFO) log.debug(line.replace(/^libbpf: /, ''));
    else log.debug(line);
  }
  return n;
}

export function installLibbpfLogger(): void {
  if (registered) return;
  registered = koffi.register(onPrint, koffi.pointer(PrintFn));
  bpf.set_print(registered);
}

/** Run fn while collecting everything libbpf prints; returns fn's result and the lines. */
export function captureLibbpfOutput<T>(fn: () => T): { result: T; output: string } {
  installLibbpfLogger();
  const prev = capture;
  capture = [];
  try {
    const result = fn();
    return { result, output: capture.join('') };
  } finally {
    capture = prev;
  }
}
