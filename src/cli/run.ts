// `netwatch run -c FILE [--watch]`: load the configuration, start the agent, reload it on SIGHUP
// (or when the file changes), stop it on SIGTERM/SIGINT.
import { Command, Option } from 'commander';
import { loadConfigFile } from '../config';
import { stopOnSignals } from '../kernel/lifecycle';
import { rootLogger, setLogLevel } from '../log';
import { configOption } from './options';

export function runCommand(): Command {
  return new Command('run')
    .description('run the agent with a configuration file (needs root for the eBPF programs)')
    .addOption(configOption())
    .addOption(new Option('-w, --watch', 'also reload when the configuration file changes (as on SIGHUP)'))
    .action(async (opts: { config: string; watch?: boolean }) => {
      const cfg = loadConfigFile(opts.config);
      setLogLevel(cfg.service.telemetry.logs.level);
      for (const note of cfg.notices ?? []) rootLogger.warn(note);
      // Imported here so that `validate` and `version` never load libbpf.
      const { startAgent } = await import('../agent');
      const agent = await startAgent(cfg);
      const { reloadOnSighup } = await import('./reload');
      const unhook = reloadOnSighup(agent, opts.config, { watch: opts.watch === true });
      // The budget is read when the signal arrives, so a reload can change it.
      stopOnSignals(
        () => {
          unhook();
          return agent.stop();
        },
        { timeoutMs: () => agent.config.service.shutdown_timeout_ms },
      );
      rootLogger.info('running', {
        config: cfg.source,
        pipelines: cfg.service.pipelines.map((p) => p.id).join(','),
        api: agent.serverUrl(),
        watch: opts.watch ? true : undefined,
      });
    });
}
