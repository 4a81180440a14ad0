// SIGHUP re-reads agent.yaml: an invalid file is rejected with its errors and the running
// configuration stays; a valid one is applied by RunningAgent.reload().
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

/** Reload on every SIGHUP, one at a time; returns a function that removes the handler. */
export function reloadOnSighup(agent: RunningAgent, path: string): () => void {
  let chain = Promise.resolve();
  const handler = () => {
    log.info('SIGHUP: reloading', { file: path });
    chain = chain.then(() => reloadFromFile(agent, path).then(() => undefined));
  };
  process.on('SIGHUP', handler);
  return () => process.off('SIGHUP', handler);
}
