// What every probe counts about its own reading, for /health and the agent's self-metrics.

/** Per probe: records read from its ring, records the kernel could not write, records not decodable. */
export interface ProbeStats {
  read: number;
  lost: number;
  decodeErrors: number;
  /** Probes that parse what they capture (sni): inputs given up, by reason. */
  rejections?: Readonly<Record<string, number>>;
  /** When this incarnation of the receiver started (its counters count from 0 since then). */
  startedAtMs?: number;
}
