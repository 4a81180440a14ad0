// The nomad_autostart processor: wakes Nomad task groups on traffic seen in the kernel, and puts them back to sleep.
export { NomadAutostartProcessor } from './processor';
export { META } from './history';
export type { Outcome } from './outcomes';
