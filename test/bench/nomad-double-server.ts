// The Nomad API double in a process of its own, for benchmarks: Nomad's work then does not run on
// the agent's event loop, as with a real Nomad. Usage: node nomad-double-server.js <jobs> [version];
// prints one JSON line {"url": ...} when listening, and stops when its stdin closes.
import { NO_DEPLOYMENTS, NomadDouble } from '../helpers/nomad';

async function main(): Promise<void> {
  const jobs = Number(process.argv[2] ?? '1');
  const version = process.argv[3];
  const d = await NomadDouble.start(version ? { server: { version } } : {});
  for (let j = 0; j < jobs; j++) d.addJob({ ID: `job${j}`, Update: NO_DEPLOYMENTS, TaskGroups: [{ Name: 'g', Count: 0 }] });
  process.stdout.write(JSON.stringify({ url: d.url }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void d.stop().then(() => process.exit(0)));
}

void main();
