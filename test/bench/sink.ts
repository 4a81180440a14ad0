// Client side of sink-process.ts: start the sink in its own process, ask it what it received.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Attrs } from '../helpers/otlp-sink';
import type { SinkQuery } from './sink-process';

type Ask = SinkQuery extends infer Q ? (Q extends SinkQuery ? Omit<Q, 'id'> : never) : never;

export class SinkProcess {
  private next = 0;
  private readonly pending = new Map<number, (v: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly grpcEndpoint: string,
  ) {
    child.on('message', (m: { id?: number; value?: unknown }) => {
      if (m.id === undefined) return;
      this.pending.get(m.id)?.(m.value);
      this.pending.delete(m.id);
    });
  }

  static start(): Promise<SinkProcess> {
    const child = fork(join(__dirname, 'sink-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the OTLP sink process exited (${code}) before it was ready`)));
      child.once('message', (m: { grpc: string }) => resolve(new SinkProcess(child, m.grpc)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask<T>(q: Ask): Promise<T> {
    const id = ++this.next;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (v: unknown) => void);
      this.child.send({ ...q, id });
    });
  }

  sumOf(metric: string, attrs?: Attrs): Promise<number> {
    return this.ask({ op: 'sumOf', metric, attrs });
  }

  logCount(eventName?: string): Promise<number> {
    return this.ask({ op: 'logCount', eventName });
  }

  /** Forget what was received so far; resolves once the sink has. */
  async clear(): Promise<void> {
    await this.ask({ op: 'clear' });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.disconnect();
    });
  }
}
