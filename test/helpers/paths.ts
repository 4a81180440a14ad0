// Locate the repository from compiled tests wherever the build output lives.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bpf'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the netwatch repository above ${start}`);
    dir = up;
  }
}

export const REPO_ROOT = findRoot(process.cwd());
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
