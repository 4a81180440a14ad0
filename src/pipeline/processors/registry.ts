// Processor factories keyed by type; nomad_autostart joins with one line here once its config
// type is in the ProcessorConfig union (the mapped type makes the compiler ask for it).
import type { ProcessorConfig } from '../../config/types';
import type { Processor } from '../event';
import { FilterProcessor } from './filter/processor';

type Factories = { readonly [K in ProcessorConfig['type']]: (cfg: Extract<ProcessorConfig, { type: K }>) => Processor };

export const PROCESSOR_FACTORIES: Factories = {
  filter: (cfg) => new FilterProcessor(cfg),
};

export function createProcessor(cfg: ProcessorConfig): Processor {
  switch (cfg.type) {
    case 'filter':
      return PROCESSOR_FACTORIES.filter(cfg);
    default: {
      const never: never = cfg.type;
      throw new Error(`no processor factory for type ${String(never)}`);
    }
  }
}
