// The processor types, as src/components.ts lists them: each one's config half and its runtime
// half (loaded on first use, like a receiver's; see src/receivers/factory.ts).
import type { ComponentDefinition } from '../../config/component';
import { filter as filterConfig } from '../../config/schemas/filter';
import { nomadAutostart as nomadAutostartConfig } from '../../config/schemas/nomad_autostart';
import type { FilterProcessorConfig, NomadAutostartProcessorConfig } from '../../config/types';
import type { Processor } from '../event';
import type { ProcessorContext } from '../processor-context';

export interface ProcessorFactory<C extends { type: string; id: string }> {
  readonly type: C['type'];
  readonly config: ComponentDefinition<C>;
  create(cfg: C, ctx: ProcessorContext): Processor;
}

export const filter: ProcessorFactory<FilterProcessorConfig> = {
  type: 'filter',
  config: filterConfig,
  create: (cfg) => new (require('./filter/processor') as typeof import('./filter/processor')).FilterProcessor(cfg),
};

export const nomadAutostart: ProcessorFactory<NomadAutostartProcessorConfig> = {
  type: 'nomad_autostart',
  config: nomadAutostartConfig,
  create: (cfg, ctx) => new (require('./nomad_autostart/processor') as typeof import('./nomad_autostart/processor')).NomadAutostartProcessor(cfg, ctx),
};
