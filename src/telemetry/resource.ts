// The OTel resource every signal carries: service and host identity, then the configured attributes.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ServiceConfig } from '../config/types';
import pkg from '../../package.json';
import { SCHEMA_URL } from '../catalogue/generated';

const MACHINE_ID = '/etc/machine-id';

/** The machine id (systemd's, stable across reboots) or undefined when absent or unreadable. */
export function readMachineId(path = MACHINE_ID): string | undefined {
  try {
    const id = readFileSync(path, 'utf8').trim();
    return id === '' ? undefined : id;
  } catch {
    return undefined;
  }
}

/** Defaults < detected host identity < `service.telemetry.resource` (already merged with OTEL_* by the config loader). */
export function buildResource(telemetry: ServiceConfig['telemetry'], machineIdPath?: string): Resource {
  const attrs: Record<string, string> = { 'service.name': 'netwatch', 'service.version': pkg.version, 'host.name': hostname() };
  const machineId = readMachineId(machineIdPath);
  if (machineId) attrs['host.id'] = machineId;
  return defaultResource().merge(resourceFromAttributes({ ...attrs, ...telemetry.resource }, { schemaUrl: SCHEMA_URL }));
}
