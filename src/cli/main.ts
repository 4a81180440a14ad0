#!/usr/bin/env node
// The `netwatch` command line: run, validate, version, events, top, install.
import { Command } from 'commander';
import { reportError } from './errors';
import { eventsCommand } from './events-command';
import { installCommand } from './install';
import { runCommand } from './run';
import { topCommand } from './top';
import { validateCommand } from './validate';
import { NETWATCH_VERSION, versionCommand } from './version';

export function buildProgram(): Command {
  return new Command('netwatch')
    .description('eBPF network agent: connections, packet fate and TLS SNI to OpenTelemetry over OTLP')
    .version(NETWATCH_VERSION, '-V, --version', 'print the netwatch version')
    .showHelpAfterError()
    .addCommand(runCommand())
    .addCommand(validateCommand())
    .addCommand(versionCommand())
    .addCommand(eventsCommand())
    .addCommand(topCommand())
    .addCommand(installCommand());
}

export async function main(argv: readonly string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) {
  void main().then((code) => {
    if (code !== 0) process.exitCode = code;
  });
}
