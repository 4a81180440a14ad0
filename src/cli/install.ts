// `netwatch install`: installs the agent as a systemd service: the config under /etc/netwatch,
// the unit under /etc/systemd/system, then daemon-reload and enable --now when systemd runs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfigFile } from '../config';
import { ConfigError } from '../errors';
import { renderUnit } from './systemd-unit';

interface InstallOptions {
  config: string;
  root: string;
  unitDir: string;
  etcDir: string;
  flag: string[];
  env: string[];
  start: boolean;
  print?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** systemd is the init system (PID 1) — not merely installed. */
const systemdRuns = (root: string): boolean => root === '/' && existsSync('/run/systemd/system');

export function installCommand(): Command {
  return new Command('install')
    .description('install netwatch as a systemd service with this configuration (root)')
    .addOption(new Option('-c, --config <file>', 'agent.yaml to install (validated first)').default('config/agent.yaml'))
    .addOption(new Option('--flag <flag>', 'an extra `netwatch run` flag, e.g. --watch (repeatable)').argParser(collect).default([]))
    .addOption(
      new Option('--env <KEY=VALUE>', 'a variable for the service, e.g. OTEL_EXPORTER_OTLP_ENDPOINT=... (repeatable; written to netwatch.env, mode 0600)')
        .argParser(collect)
        .default([]),
    )
    .addOption(new Option('--root <dir>', 'install under this directory instead of / (images, tests)').default('/'))
    .addOption(new Option('--unit-dir <dir>', 'where the unit goes, under --root').default('/etc/systemd/system'))
    .addOption(new Option('--etc-dir <dir>', 'where agent.yaml and netwatch.env go, under --root').default('/etc/netwatch'))
    .addOption(new Option('--no-start', 'write the files only; do not run systemctl'))
    .addOption(new Option('--print', 'print the unit and change nothing'))
    .action((o: InstallOptions) => install(o));
}

export function install(o: InstallOptions, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  const problems: string[] = [];
  for (const f of o.flag) if (!['--watch', '-w'].includes(f)) problems.push(`--flag ${f}: netwatch run takes only --watch besides -c`);
  const env = o.env.map((kv) => {
    const eq = kv.indexOf('=');
    if (eq < 1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(kv.slice(0, eq)))
      problems.push(`--env ${kv.slice(0, Math.max(eq, 0)) || kv}: must be KEY=VALUE with a variable name as KEY`);
    if (/[\r\n]/.test(kv)) problems.push(`--env ${kv.slice(0, eq)}: the value must be one line`);
    return [kv.slice(0, eq), kv.slice(eq + 1)] as const;
  });
  if (problems.length) throw new ConfigError(problems);
  // An invalid file never gets installed (the service would only crash-loop).
  loadConfigFile(o.config, { ...process.env, ...Object.fromEntries(env) });

  const etc = o.etcDir;
  const main = resolve(__dirname, 'main.js');
  const unit = renderUnit({ node: process.execPath, main, config: join(etc, 'agent.yaml'), flags: o.flag, envFile: join(etc, 'netwatch.env') });
  if (o.print) {
    write(unit);
    return;
  }
  const under = (p: string) => join(o.root, p);
  mkdirSync(under(etc), { recursive: true });
  mkdirSync(under(o.unitDir), { recursive: true });
  const target = under(join(etc, 'agent.yaml'));
  if (resolve(o.config) !== resolve(target)) copyFileSync(o.config, target);
  if (env.length) {
    // Values may be secrets (OTLP headers, the API token): owner-only, and never printed.
    writeFileSync(under(join(etc, 'netwatch.env')), env.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n', { mode: 0o600 });
  }
  const unitPath = under(join(o.unitDir, 'netwatch.service'));
  writeFileSync(unitPath, unit, { mode: 0o644 });
  write(`installed ${unitPath} (config ${target}${env.length ? `, ${env.length} variables in ${under(join(etc, 'netwatch.env'))}` : ''})\n`);
  if (!o.start) return;
  if (!systemdRuns(o.root)) {
    write('systemd is not running here; start it later with: systemctl daemon-reload && systemctl enable --now netwatch\n');
    return;
  }
  execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
  execFileSync('systemctl', ['enable', '--now', 'netwatch.service'], { stdio: 'inherit' });
  write('netwatch.service enabled and started; logs: journalctl -u netwatch -f; reload: systemctl reload netwatch\n');
}
