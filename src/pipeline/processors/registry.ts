// Processors by type, from the factories in src/components.ts.
import { PROCESSORS } from '../../components';
import type { ProcessorConfig } from '../../config/types';
import type { Processor } from '../event';
import type { ProcessorContext } from '../processor-context';
import type { ProcessorFactory } from './factories';

export function createProcessor(cfg: ProcessorConfig, ctx: ProcessorContext): Processor {
  // The factory listed under cfg.type takes configs of exactly that type.
  const factory = PROCESSORS[cfg.type] as ProcessorFactory<ProcessorConfig>;
  return factory.create(cfg, ctx);
}
