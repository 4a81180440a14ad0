// The bench's helper processes speak lines: a command on stdin, one JSON line back on stdout.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Reply = Record<string, unknown>;

export interface LineChildOptions {
  /** Extra fds the child inherits as 3, 4, … (a ring map's fd). */
  fds?: number[];
  /** How long to wait for the ready line and each reply. */
  timeoutMs?: number;
}

/** A child that answers each command with one JSON line; its first line says it is ready. */
export class LineChild {
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private stderr = '';
  private exited: string | undefined;
  readonly ready: Promise<Reply>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      clearTimeout(w.timer);
      try {
        w.resolve(JSON.parse(line) as Reply);
      } catch {
        w.reject(new Error(`${name}: not a JSON line: ${line}`));
      }
    });
    child.once('exit', (code, signal) => {
      this.exited = `${name} exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim()}` : ''}`;
      for (const w of this.waiting.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(this.exited));
      }
    });
    this.ready = this.expect('its ready line');
  }

  static start(name: string, file: string, args: string[] = [], opts: LineChildOptions = {}): LineChild {
    const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', ...(opts.fds ?? [])];
    return new LineChild(name, spawn(file, args, { stdio }), opts.timeoutMs ?? 60_000);
  }

  get pid(): number {
    return this.child.pid!;
  }

  private expect(what: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(this.exited));
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer to ${what} within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.waiting.push({ resolve, reject, timer });
    });
  }

  /** Send a command and wait for its answer. */
  request(command: string): Promise<Reply> {
    const answer = this.expect(command);
    this.child.stdin!.write(`${command}\n`);
    return answer;
  }

  /** Ask it to quit, and make sure it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end('quit\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}
