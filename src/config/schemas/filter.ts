// processors.filter: keep or drop connection events by process, container, Nomad job, port, peer CIDR, direction, transport.
import { defineComponent, type BuildContext } from '../component';
import type { FilterProcessorConfig, FilterRule } from '../types';
import { joinPath } from '../problems';
import { checkSection } from '../section';
import { filterRuleSchema, isEmptyRule, toFilterRule } from './filter-rule';

interface Settings {
  include: unknown[];
  exclude: unknown[];
}

function checkRules(which: 'include' | 'exclude', raw: readonly unknown[], ctx: BuildContext): FilterRule[] {
  const rules: FilterRule[] = [];
  raw.forEach((item, i) => {
    const path = joinPath(joinPath(ctx.path, which), i);
    const r = checkSection({ schema: filterRuleSchema, expected: 'a rule (a mapping) such as {process: [curl]}' }, item, path);
    ctx.problems.push(...r.problems);
    if (!r.value || r.problems.length) return;
    const rule = toFilterRule(r.value);
    if (isEmptyRule(rule)) {
      ctx.problems.push({
        path,
        message: `an empty rule matches every event${which === 'exclude' ? ' (so everything would be dropped)' : ''}; give at least one of process, container_id, container_runtime, nomad_job, ports, cidrs, direction, transport`,
      });
      return;
    }
    rules.push(rule);
  });
  return rules;
}

export const filter = defineComponent<FilterProcessorConfig, Settings>({
  type: 'filter',
  summary: 'keeps events matching any include rule (when there are any) and drops events matching any exclude rule',
  lists: { include: filterRuleSchema, exclude: filterRuleSchema },
  schema: () => ({
    schema: {
      include: { doc: 'If non-empty, an event must match at least one of these rules to be kept.', format: 'nw.rule-list', default: [] },
      exclude: { doc: 'An event matching any of these rules is dropped (checked after include).', format: 'nw.rule-list', default: [] },
    },
    hints: {
      metrics: "netwatch's filter matches connection fields (process, cidrs, ports, ...), not OTTL conditions",
      logs: "netwatch's filter matches connection fields (process, cidrs, ports, ...), not OTTL conditions",
      error_mode: "netwatch's filter has no OTTL, so no error_mode",
    },
  }),
  build: (s, ctx) => ({
    type: 'filter',
    id: ctx.id,
    include: checkRules('include', s.include, ctx),
    exclude: checkRules('exclude', s.exclude, ctx),
  }),
});
