// `netwatch validate -c FILE`: every problem (exit 2), or a summary of what would run (exit 0).
import { Command } from 'commander';
import { loadConfigFile, summarizeConfig } from '../config';
import { configOption } from './options';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check a configuration file and print its components and pipelines (secrets redacted); exits 2 when invalid')
    .addOption(configOption())
    .action((opts: { config: string }) => {
      process.stdout.write(summarizeConfig(loadConfigFile(opts.config)));
    });
}
