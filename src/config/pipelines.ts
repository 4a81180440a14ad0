// service.pipelines: ids, references to defined components, and what each signal may use.
import type { ComponentKind } from './component';
import { parseComponentId } from './component-id';
import { KIND_ORDER, KINDS, METRICS_ONLY_EXPORTERS } from './registry';
import { joinPath, list, type Problem } from './problems';
import { checkSection } from './section';
import { pipelineSchema } from './schemas/pipeline';
import type { PipelineConfig, Signal } from './types';

/** Component id → its type (undefined when the id itself was invalid), per section. */
export type Defined = Readonly<Record<ComponentKind, ReadonlyMap<string, string | undefined>>>;

const SIGNALS: readonly Signal[] = ['metrics', 'logs'];
const FORMS = 'pipeline ids are metrics, logs, metrics/<name> or logs/<name>';

function pipelineSignal(id: string, path: string, problems: Problem[]): Signal | undefined {
  const parsed = parseComponentId(id);
  if (!parsed.ok) {
    problems.push({ path, message: parsed.message.replace('component id', 'pipeline id') });
    return undefined;
  }
  if ((SIGNALS as readonly string[]).includes(parsed.type)) return parsed.type as Signal;
  const why = parsed.type === 'traces' ? 'netwatch produces metrics and logs, not traces' : `unknown pipeline type "${parsed.type}"`;
  problems.push({ path, message: `${why}; ${FORMS}` });
  return undefined;
}

export function checkPipelines(raw: Readonly<Record<string, unknown>>, defined: Defined, problems: Problem[]): PipelineConfig[] {
  const out: PipelineConfig[] = [];
  if (Object.keys(raw).length === 0) {
    problems.push({ path: 'service.pipelines', message: `no pipelines are defined; add at least one (${FORMS}), each with receivers and exporters` });
    return out;
  }
  for (const [id, body] of Object.entries(raw)) {
    const path = `service.pipelines.${id}`;
    const signal = pipelineSignal(id, path, problems);
    const r = checkSection({ schema: pipelineSchema, expected: 'a mapping with receivers, processors and exporters' }, body, path);
    problems.push(...r.problems);
    if (!signal || !r.value || r.problems.length) continue;
    const lists = r.value;
    let ok = true;
    for (const kind of KIND_ORDER) {
      const listPath = joinPath(path, kind);
      const ids = lists[kind];
      if (kind !== 'processors' && ids.length === 0) {
        problems.push({ path: listPath, message: `a pipeline needs at least one ${KINDS[kind].noun}` });
        ok = false;
      }
      const seen = new Set<string>();
      for (const ref of ids) {
        if (seen.has(ref)) {
          problems.push({ path: listPath, message: `lists "${ref}" more than once` });
          ok = false;
        }
        seen.add(ref);
        if (!defined[kind].has(ref)) {
          const have = [...defined[kind].keys()].sort();
          problems.push({
            path: listPath,
            message: `"${ref}" is not defined under ${kind} (${have.length ? `defined: ${list(have)}` : `no ${kind} are defined`})`,
          });
          ok = false;
        } else if (kind === 'exporters' && signal !== 'metrics' && METRICS_ONLY_EXPORTERS.has(defined.exporters.get(ref) ?? '')) {
          problems.push({ path: listPath, message: `"${ref}" can only export metrics; list it in a metrics pipeline` });
          ok = false;
        }
      }
    }
    if (ok) out.push({ id, signal, receivers: lists.receivers, processors: lists.processors, exporters: lists.exporters });
  }
  return out;
}
