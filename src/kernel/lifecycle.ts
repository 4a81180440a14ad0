// Everything the agent creates in the kernel is released on stop, and on SIGTERM/SIGINT the
// registered stop runs once before the process exits (links are fds, so even SIGKILL frees
// programs and cgroup attachments; TC filters are netlink objects and need this path).
import { rootLogger } from '../log';

type Stopper = () => Promise<void> | void;

export interface SignalOptions {
  /** Exit anyway after this long if stopping hangs (service.shutdown_timeout; default 10 s). */
  timeoutMs?: number | (() => number);
  exit?: (code: number) => void;
}

/** Run stop once on the first SIGTERM or SIGINT, then exit 0 (1 if stop failed or timed out). */
export function stopOnSignals(stop: Stopper, opts: SignalOptions = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timeoutMs = typeof opts.timeoutMs === 'function' ? opts.timeoutMs() : (opts.timeoutMs ?? 10_000);
    rootLogger.info('stopping', { signal: sig, timeout_ms: timeoutMs });
    const timer = setTimeout(() => {
      rootLogger.error(`stop did not finish within ${timeoutMs} ms (service.shutdown_timeout); exiting`);
      exit(1);
    }, timeoutMs);
    timer.unref();
    Promise.resolve()
      .then(stop)
      .then(
        () => {
          clearTimeout(timer);
          rootLogger.info('stopped');
          exit(0);
        },
        (e) => {
          rootLogger.error('stop failed', { error: e as Error });
          exit(1);
        },
      );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
