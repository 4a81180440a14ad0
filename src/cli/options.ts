// Options shared by the commands.
import { Option } from 'commander';

export const DEFAULT_CONFIG = 'config/agent.yaml';

export const configOption = (): Option => new Option('-c, --config <file>', 'agent.yaml to read (relative to the current directory)').default(DEFAULT_CONFIG);
