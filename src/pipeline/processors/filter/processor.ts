// The filter processor: keep an event when it matches an include rule (if there are any) and no exclude rule.
import type { FilterProcessorConfig } from '../../../config/types';
import type { PipelineEvent, Processor } from '../../event';
import { anyOf, compileRule, type EventPredicate } from './rule';

export class FilterProcessor implements Processor {
  readonly id: string;
  private readonly included: EventPredicate | undefined;
  private readonly excluded: EventPredicate | undefined;

  constructor(cfg: FilterProcessorConfig) {
    this.id = cfg.id;
    this.included = cfg.include.length ? anyOf(cfg.include.map(compileRule)) : undefined;
    this.excluded = cfg.exclude.length ? anyOf(cfg.exclude.map(compileRule)) : undefined;
  }

  process(ev: PipelineEvent): boolean {
    // The start of a collection of kernel counters carries no attributes to filter on.
    if (ev.source === 'connections' && ev.counts?.row === 'begin') return true;
    if (this.included !== undefined && !this.included(ev)) return false;
    return this.excluded === undefined || !this.excluded(ev);
  }
}
