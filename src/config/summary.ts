// The human summary `netwatch validate` prints: every component with its effective settings
// (redacted), the pipelines, and what is defined but unused.
import { redactConfig } from './redact';
import type { AgentConfig } from './types';

function flatten(value: unknown, prefix: string, out: string[]): void {
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    if (value.every((v) => typeof v !== 'object' || v === null)) out.push(`${prefix}=[${value.join(',')}]`);
    else value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  if (value === '') return;
  out.push(`${prefix}=${typeof value === 'string' && /[\s"]/.test(value) ? JSON.stringify(value) : String(value)}`);
}

function settings(component: object): string {
  const { type: _type, id: _id, ...fields } = component as Record<string, unknown>;
  let rest = fields;
  // OTLP exporters resolve each signal apart: what both share is shown once, the rest per signal.
  if (typeof rest.metrics === 'object' && typeof rest.logs === 'object') {
    const { metrics, logs, ...others } = rest as { metrics: Record<string, unknown>; logs: Record<string, unknown> };
    const same = (k: string) => JSON.stringify(metrics[k]) === JSON.stringify(logs[k]);
    const pick = (o: Record<string, unknown>, keep: boolean) => Object.fromEntries(Object.entries(o).filter(([k]) => same(k) === keep));
    rest = { ...pick(metrics, true), metrics: pick(metrics, false), logs: pick(logs, false), ...others };
  }
  const out: string[] = [];
  flatten(rest, '', out);
  return out.join(' ');
}

export function summarizeConfig(config: AgentConfig): string {
  const cfg = redactConfig(config);
  const used = new Set(cfg.service.pipelines.flatMap((p) => [...p.receivers, ...p.processors, ...p.exporters]));
  const lines = [`${cfg.source}: valid`, ...(cfg.notices ?? []).map((n) => `  note: ${n}`)];
  const sections = [
    ['receivers', cfg.receivers],
    ['processors', cfg.processors],
    ['exporters', cfg.exporters],
  ] as const;
  for (const [name, components] of sections) {
    const ids = Object.keys(components);
    lines.push('', `${name} (${ids.length})`);
    for (const id of ids) {
      const component = components[id]!; // id is a key of components
      const unused = used.has(id) ? '' : '  [not in any pipeline]';
      lines.push(`  ${id}${unused}`, `      ${settings(component) || '(defaults)'}`);
    }
  }
  lines.push('', `pipelines (${cfg.service.pipelines.length})`);
  for (const p of cfg.service.pipelines) {
    const stages = [p.receivers.join(', '), ...p.processors, p.exporters.join(', ')];
    lines.push(`  ${p.id}: ${stages.join(' -> ')}`);
  }
  const tele: string[] = [];
  flatten(cfg.service.telemetry, '', tele);
  lines.push('', 'telemetry', `  ${tele.join(' ')}`);
  const service: string[] = [];
  flatten({ server: cfg.service.server, shutdown_timeout_ms: cfg.service.shutdown_timeout_ms }, '', service);
  lines.push('', 'service', `  ${service.join(' ')}`);
  return lines.join('\n') + '\n';
}
