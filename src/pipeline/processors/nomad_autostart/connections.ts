// Open TCP connections to the ports of idle-tracked groups, from the connections receiver's
// events: sockets are counted from connect/accept/existing/state until they close, listening
// sockets never. When a port's last connection closes, the owner is told (the idle clock starts);
// when its first opens, too (this node's activity turns active).
// The kernel's own count of open sockets (the `active` rows of each collection, from its socket
// iterator) resyncs a port whose close records were lost: a lost close cannot keep a group awake.
import type { ConnPipelineEvent } from '../../event';

// Sockets whose close was lost would otherwise stay forever (as in telemetry/conn-metrics.ts).
const MAX_TRACKED = 262_144;

/** States in which a socket is not an open connection. */
const NOT_OPEN = new Set(['listen', 'closed', 'time_wait', 'unknown']);

export interface OpenConnectionsState {
  readonly bySock: Map<bigint, number>;
  readonly perPort: Map<number, number>;
  /** Per socket, the collection during which its open was seen. */
  readonly bornIn?: Map<bigint, number>;
  readonly collection?: number;
}

export class OpenConnections {
  private readonly bySock: Map<bigint, number>;
  private readonly perPort: Map<number, number>;
  /** Sockets not tracked because the table was full. */
  overflowed = 0;
  /** Sockets dropped because the kernel said their port had no open connection (their close was lost). */
  resynced = 0;
  private readonly bornIn: Map<bigint, number>;
  /** Collections of the kernel's counters begun so far. */
  private collection: number;
  /** Open sockets per watched port in the collection under way, by the kernel; null: none begun, or it overflowed. */
  private tally: Map<number, number> | null = null;

  constructor(
    private readonly watched: ReadonlySet<number>,
    private readonly onLastClosed: (port: number) => void,
    carry?: OpenConnectionsState,
    private readonly onFirstOpened?: (port: number) => void,
  ) {
    this.bySock = carry?.bySock ?? new Map<bigint, number>();
    this.perPort = carry?.perPort ?? new Map<number, number>();
    this.bornIn = carry?.bornIn ?? new Map<bigint, number>();
    this.collection = carry?.collection ?? 0;
  }

  state(): OpenConnectionsState {
    return { bySock: this.bySock, perPort: this.perPort, bornIn: this.bornIn, collection: this.collection };
  }

  open(port: number): number {
    return this.perPort.get(port) ?? 0;
  }

  observe(ev: ConnPipelineEvent): void {
    if (ev.transport !== 'tcp') return;
    switch (ev.kind) {
      case 'count':
        this.kernelCount(ev); // counter rows are not connections, but they say how many are open
        return;
      case 'close':
        this.remove(ev.sock);
        return;
      case 'state':
      case 'existing':
        if (NOT_OPEN.has(ev.newState)) {
          if (ev.newState !== 'listen') this.remove(ev.sock);
          return;
        }
        break;
      case 'connect':
      case 'accept':
        break;
    }
    if (this.bySock.has(ev.sock)) return;
    const port = this.serverPort(ev);
    if (port === 0) return;
    if (this.bySock.size >= MAX_TRACKED) {
      this.overflowed++;
      return;
    }
    this.bySock.set(ev.sock, port);
    this.bornIn.set(ev.sock, this.collection);
    const n = (this.perPort.get(port) ?? 0) + 1;
    this.perPort.set(port, n);
    if (n === 1) this.onFirstOpened?.(port);
  }

  private kernelCount(ev: ConnPipelineEvent): void {
    const counts = ev.counts;
    if (!counts) return;
    switch (counts.row) {
      case 'begin':
        // The previous collection is complete: every row of it has been seen.
        if (this.tally) this.resync(this.tally);
        this.collection++;
        this.tally = new Map();
        return;
      case 'overflow':
        if (counts.active > 0) this.tally = null; // open sockets counted without their ports: no verdict this time
        return;
      case 'active': {
        if (!this.tally || ev.transport !== 'tcp' || NOT_OPEN.has(ev.newState)) return;
        const port = this.serverPort(ev);
        if (port !== 0) this.tally.set(port, (this.tally.get(port) ?? 0) + counts.active);
        return;
      }
      default:
        return;
    }
  }

  /**
   * Drop the sockets of each port the kernel found without an open connection. Only sockets seen
   * open before the collection before the counted one: the kernel's iterator ran after that
   * collection was handed over, so it would have found them had they still been open (a socket
   * opened later may have missed the pass and is left alone).
   */
  private resync(kernel: ReadonlyMap<number, number>): void {
    const counted = this.collection; // the collection whose rows `kernel` holds
    const stale: bigint[] = [];
    for (const [sock, port] of this.bySock) {
      if ((kernel.get(port) ?? 0) === 0 && (this.bornIn.get(sock) ?? 0) < counted - 1) stale.push(sock);
    }
    this.resynced += stale.length;
    for (const sock of stale) this.remove(sock);
  }

  /** The watched server port of the connection, or 0: remote for outbound, local for inbound, either when unknown. */
  private serverPort(ev: ConnPipelineEvent): number {
    switch (ev.direction) {
      case 'outbound':
        return this.watched.has(ev.remotePort) ? ev.remotePort : 0;
      case 'inbound':
        return this.watched.has(ev.localPort) ? ev.localPort : 0;
      case 'unknown':
        return this.watched.has(ev.localPort) ? ev.localPort : this.watched.has(ev.remotePort) ? ev.remotePort : 0;
    }
  }

  private remove(sock: bigint): void {
    const port = this.bySock.get(sock);
    if (port === undefined) return;
    this.bySock.delete(sock);
    this.bornIn.delete(sock);
    const n = (this.perPort.get(port) ?? 1) - 1;
    if (n > 0) this.perPort.set(port, n);
    else {
      this.perPort.delete(port);
      this.onLastClosed(port);
    }
  }
}
