// The real `netwatch` CLI as a child process: its output collected, waited on, and stopped by a
// signal with its exit code — what the end-to-end tests of run, reload, shutdown and top share.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The compiled CLI, next to the compiled tests. */
export const CLI = join(__dirname, '../../src/cli/main.js');

export class RunningCli {
  /** Everything it wrote to stdout and stderr so far. */
  output = '';

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d) => (this.output += d));
    child.stderr!.on('data', (d) => (this.output += d));
  }

  /**
   * `netwatch <args…>`, e.g. `['run', '-c', file]`; in network namespace `netns` when given. `ip netns
   * exec` mounts a sysfs of that namespace over /sys, hiding the cgroup2 mount below it: it is
   * mounted again in that private mount namespace. Same pid either way (ip and sh exec).
   */
  static start(args: readonly string[], opts: { netns?: string } = {}): RunningCli {
    const argv = [process.execPath, CLI, ...args];
    const remount = 'mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup; exec "$@"';
    const [cmd, ...rest] = opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'sh', '-c', remount, 'sh', ...argv] : argv;
    return new RunningCli(spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once `re` matches the output; fails, quoting it, after `ms` or if the CLI exits first. */
  async waitFor(re: RegExp, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this.output)) {
      if (!this.running) throw new Error(`netwatch exited (${this.child.exitCode ?? this.child.signalCode}) before ${re}:\n${this.output}`);
      if (Date.now() > end) throw new Error(`no ${re} in the output of netwatch within ${ms} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** Send `sig` (unless it already exited) and resolve with the exit code. */
  stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => {
      this.child.once('exit', (code) => resolve(code));
      this.child.kill(sig);
    });
  }
}
