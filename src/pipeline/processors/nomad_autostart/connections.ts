// Open TCP connections to the ports of idle-tracked groups, from the connections receiver's
// events: sockets are counted from connect/accept/existing/state until they close, listening
// sockets never. When a port's last connection closes, the owner is told (the idle clock starts).
import type { ConnPipelineEvent } from '../../event';

// Sockets whose close was lost would otherwise stay forever (as in telemetry/conn-metrics.ts).
const MAX_TRACKED = 262_144;

/** States in which a socket is not an open connection. */
const NOT_OPEN = new Set(['listen', 'closed', 'time_wait', 'unknown']);

export interface OpenConnectionsState {
  readonly bySock: Map<bigint, number>;
  readonly perPort: Map<number, number>;
}

export class OpenConnections {
  private readonly bySock: Map<bigint, number>;
  private readonly perPort: Map<number, number>;
  /** Sockets not tracked because the table was full. */
  overflowed = 0;

  constructor(
    private readonly watched: ReadonlySet<number>,
    private readonly onLastClosed: (port: number) => void,
    carry?: OpenConnectionsState,
  ) {
    this.bySock = carry?.bySock ?? new Map<bigint, number>();
    this.perPort = carry?.perPort ?? new Map<number, number>();
  }

  state(): OpenConnectionsState {
    return { bySock: this.bySock, perPort: this.perPort };
  }

  open(port: number): number {
    return this.perPort.get(port) ?? 0;
  }

  observe(ev: ConnPipelineEvent): void {
    if (ev.transport !== 'tcp') return;
    switch (ev.kind) {
      case 'count':
        return; // counter rows are not connections
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
    this.perPort.set(port, (this.perPort.get(port) ?? 0) + 1);
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
    const n = (this.perPort.get(port) ?? 1) - 1;
    if (n > 0) this.perPort.set(port, n);
    else {
      this.perPort.delete(port);
      this.onLastClosed(port);
    }
  }
}
