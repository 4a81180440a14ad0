// Blocking queries.
// Follows hashicorp/nomad nomad/rpc.go blockingRPC and nomad/structs/structs.go
// QueryOptions.TimeToBlock: no `index` answers at once; the default and the maximum wait are 300 s
// (DefaultBlockingRPCQueryTime, MaxBlockingRPCQueryTime); a jitter of up to wait/16 is added
// (JitterFraction); the query returns when the result's index passes `index`, else the last
// result at the deadline. command/agent/http.go parseWait / parseConsistency: "Invalid wait time"
// and "Invalid index" are 400.
import { parseGoDuration } from './go';
import { Answer, type RequestContext } from './http';
import type { NomadState } from './state';

const MAX_BLOCK_MS = 300_000; // structs.MaxBlockingRPCQueryTime and DefaultBlockingRPCQueryTime
const JITTER_FRACTION = 16; // structs.JitterFraction

/** Re-runs `run` on every state change until its index passes `index` or the wait ends. */
export async function blocking<T>(
  state: NomadState,
  ctx: Pick<RequestContext, 'q' | 'req'>,
  run: () => { index: number; value: T },
): Promise<{ index: number; value: T }> {
  const waitRaw = ctx.q.get('wait');
  let waitMs = 0;
  if (waitRaw) {
    const parsed = parseGoDuration(waitRaw);
    if (parsed === undefined) throw new Answer(400, 'Invalid wait time');
    waitMs = parsed;
  }
  const indexRaw = ctx.q.get('index');
  let minIndex = 0;
  if (indexRaw) {
    if (!/^\d+$/.test(indexRaw)) throw new Answer(400, 'Invalid index');
    minIndex = Number(indexRaw);
  }
  let result = run();
  if (minIndex === 0) return result;
  const block = waitMs > MAX_BLOCK_MS ? MAX_BLOCK_MS : waitMs <= 0 ? MAX_BLOCK_MS : waitMs;
  const deadline = Date.now() + block + Math.random() * (block / JITTER_FRACTION);
  while (result.index <= minIndex && !state.stopped && !ctx.req.socket.destroyed) {
    const changed = await nextChange(state, deadline - Date.now());
    if (!changed) break;
    result = run();
  }
  return result;
}

function nextChange(state: NomadState, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onChange = (): void => {
      clearTimeout(t);
      resolve(true);
    };
    const t = setTimeout(() => {
      state.changes.off('change', onChange);
      resolve(false);
    }, ms);
    state.changes.once('change', onChange);
  });
}
