// Prints tcState(<dev>) as JSON, for an interface in the namespace this process runs in.
import { tcState } from './container-netns';

process.stdout.write(JSON.stringify(tcState(process.argv[2] ?? 'lo')));
