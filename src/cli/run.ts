// `netwatch run -c FILE`: load the configuration, start the agent, reload it on SIGHUP, stop it
// on SIGTERM/SIGINT.
import { Command } from 'commander';
import { loadConfigFile } from '../config';
import { stopOnSignals } from '../kernel/lifecycle';
import { rootLogger, setLogLevel } from '../log';
import { configOption } from './options';

export function runCommand(): Command {
  return new Command('run')
    .description('run the agent with a configuration file (needs root for the eBPF programs)')
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      const cfg = loadConfigFile(opts.config);
      setLogLevel(cfg.service.telemetry.logs.level);
      // Imported here so that `validate` and `version` never load libbpf.
      const { startAgent } = await import('../agent');
      const agent = await startAgent(cfg);
      const { reloadOnSighup } = await import('./reload');
      const unhook = reloadOnSighup(agent, opts.config);
      stopOnSignals(() => {
        unhook();
        return agent.stop();
      });
      rootLogger.info('running', { config: cfg.source, pipelines: cfg.service.pipelines.map((p) => p.id).join(',') });
    });
}
