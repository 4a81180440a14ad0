// SIGHUP (and, with --watch, a change of the file) re-reads agent.yaml: an invalid file is rejected
// with its errors and the running configuration stays; a valid one is applied by RunningAgent.reload().
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { loadConfigFile } from '../config';
import { ConfigError } from '../errors';
import type { RunningAgent } from '../agent';
import { rootLogger } from '../log';

const log = rootLogger.child('reload');

export async function reloadFromFile(agent: RunningAgent, path: string): Promise<boolean> {
  let next;
  try {
    next = loadConfigFile(path);
  } catch (e) {
    const problems = e instanceof ConfigError ? [...e.problems] : [(e as Error).message];
    agent.reloadRejected({ timeUnixMs: Date.now(), file: path, applied: false, problems });
    log.error('reload rejected; keeping the running configuration', { file: path, generation: agent.generation, problems: problems.join('; ') });
    return false;
  }
  try {
    await agent.reload(next);
    return true;
  } catch (e) {
    log.error('reload failed', { file: path, error: e as Error });
    return false;
  }
}

export interface ReloadTriggers {
  /** Also reload when the file changes (polled: editors and config managers replace files by rename, which inotify on the old inode misses). */
  watch?: boolean;
  watchIntervalMs?: number;
}

/** Reload on every SIGHUP (and file change), one at a time; returns a function that removes the triggers. */
export function reloadOnSighup(agent: RunningAgent, path: string, triggers: ReloadTriggers = {}): () => void {
  let chain = Promise.resolve();
  const reload = (why: string) => {
    log.info(`${why}: reloading`, { file: path });
    chain = chain.then(() => reloadFromFile(agent, path).then(() => undefined));
  };
  const handler = () => reload('SIGHUP');
  process.on('SIGHUP', handler);
  const onChange = (cur: Stats, prev: Stats) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reload('the file changed');
  };
  if (triggers.watch) {
    // Persistent false: the watcher never keeps the process alive by itself.
    watchFile(path, { interval: triggers.watchIntervalMs ?? 1000, persistent: false }, onChange);
    log.info('watching the configuration file for changes', { file: path });
  }
  return () => {
    process.off('SIGHUP', handler);
    if (triggers.watch) unwatchFile(path, onChange);
  };
}
