// Time as the flows measure it: performance.now() (monotonic), and durations worded as in agent.yaml.

export const hrSeconds = (from: bigint, to: bigint): number => Number(to - from) / 1e9;
export const now = (): number => performance.now();

export function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
