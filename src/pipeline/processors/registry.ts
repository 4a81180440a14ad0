// Processor factories keyed by type; the mapped type makes the compiler ask for a factory for
// every type in the ProcessorConfig union.
import type { ProcessorConfig } from '../../config/types';
import { InternalError } from '../../errors';
import type { Processor } from '../event';
import type { ProcessorContext } from '../processor-context';
import { FilterProcessor } from './filter/processor';
import { NomadAutostartProcessor } from './nomad_autostart/processor';

type Factories = { readonly [K in ProcessorConfig['type']]: (cfg: Extract<ProcessorConfig, { type: K }>, ctx: ProcessorContext) => Processor };

export const PROCESSOR_FACTORIES: Factories = {
  filter: (cfg) => new FilterProcessor(cfg),
  nomad_autostart: (cfg, ctx) => new NomadAutostartProcessor(cfg, ctx),
};

export function createProcessor(cfg: ProcessorConfig, ctx: ProcessorContext): Processor {
  switch (cfg.type) {
    case 'filter':
      return PROCESSOR_FACTORIES.filter(cfg, ctx);
    case 'nomad_autostart':
      return PROCESSOR_FACTORIES.nomad_autostart(cfg, ctx);
    default: {
      const never: never = cfg;
      throw new InternalError(`no processor factory for type ${String((never as ProcessorConfig).type)}`);
    }
  }
}
