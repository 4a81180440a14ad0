// `netwatch version`: versions of netwatch and Node, and where libbpf comes from.
import { Command } from 'commander';
import { version } from '../../package.json';

export const NETWATCH_VERSION: string = version;

export function versionCommand(): Command {
  return new Command('version').description('print the netwatch and Node.js versions').action(() => {
    process.stdout.write(
      [
        `netwatch ${NETWATCH_VERSION}`,
        `node ${process.version} (${process.platform}/${process.arch})`,
        'libbpf: libbpf.so.1 from the system library path, loaded only by `netwatch run`',
        '',
      ].join('\n'),
    );
  });
}
