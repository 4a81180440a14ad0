// Network namespaces joined by a veth pair, created by a test and removed after it.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface NetnsPair {
  a: string;
  b: string;
  addrA4: string;
  addrB4: string;
  addrA6: string;
  addrB6: string;
  /** network namespace inode numbers, as the kernel reports them */
  inoA: number;
  inoB: number;
  remove(): void;
}

/** Two namespaces `<prefix>a` / `<prefix>b` with veth ends `<prefix>va` / `<prefix>vb`, v4 and v6. */
export function createNetnsPair(prefix: string, subnet = 201): NetnsPair {
  const a = `${prefix}a`,
    b = `${prefix}b`;
  const remove = () => {
    for (const n of [a, b]) {
      try {
        ip('netns', 'del', n);
      } catch {
        /* already gone */
      }
    }
  };
  remove();
  try {
    ip('netns', 'add', a);
    ip('netns', 'add', b);
    ip('link', 'add', `${prefix}va`, 'netns', a, 'type', 'veth', 'peer', 'name', `${prefix}vb`, 'netns', b);
    const addrA4 = `10.${subnet}.0.1`,
      addrB4 = `10.${subnet}.0.2`;
    const addrA6 = `fd00:${subnet}::1`,
      addrB6 = `fd00:${subnet}::2`;
    ip('-n', a, 'addr', 'add', `${addrA4}/24`, 'dev', `${prefix}va`);
    ip('-n', b, 'addr', 'add', `${addrB4}/24`, 'dev', `${prefix}vb`);
    ip('-n', a, 'addr', 'add', `${addrA6}/64`, 'dev', `${prefix}va`, 'nodad');
    ip('-n', b, 'addr', 'add', `${addrB6}/64`, 'dev', `${prefix}vb`, 'nodad');
    for (const [n, dev] of [
      [a, `${prefix}va`],
      [b, `${prefix}vb`],
    ]) {
      ip('-n', n, 'link', 'set', 'lo', 'up');
      ip('-n', n, 'link', 'set', dev, 'up');
    }
    return {
      a,
      b,
      addrA4,
      addrB4,
      addrA6,
      addrB6,
      inoA: statSync(`/run/netns/${a}`).ino,
      inoB: statSync(`/run/netns/${b}`).ino,
      remove,
    };
  } catch (e) {
    remove();
    throw e;
  }
}
