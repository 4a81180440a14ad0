// The OTel resource every signal carries: service and host identity, then the configured attributes.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ServiceConfig } from '../config/types';
import pkg from '../../package.json';
import { SCHEMA_URL } from '../catalogue/generated';

const MACHINE_ID = '/etc/machine-id';
/** A random id the kernel draws at every boot (random(4)). */
const BOOT_ID = '/proc/sys/kernel/random/boot_id';
const SELF_STAT = '/proc/self/stat';
/** The namespace the conventions give for service.instance.id as a UUID v5 of a stable id. */
export const SERVICE_INSTANCE_NAMESPACE = '4d63009a-8d0f-11ee-aad7-4c796ed8e320';
// proc(5): starttime, the 22nd field of /proc/<pid>/stat, is the 20th after the `(comm)` field.
const STARTTIME_AFTER_COMM = 19;

const readTrimmed = (path: string): string | undefined => {
  try {
    const v = readFileSync(path, 'utf8').trim();
    return v === '' ? undefined : v;
  } catch {
    return undefined;
  }
};

/** The machine id (systemd's, stable across reboots) or undefined when absent or unreadable. */
export function readMachineId(path = MACHINE_ID): string | undefined {
  return readTrimmed(path);
}

/** When the process started, in clock ticks since boot (proc(5) starttime); the comm may hold spaces and parentheses. */
export function processStartTicks(statPath = SELF_STAT): string | undefined {
  const stat = readTrimmed(statPath);
  const end = stat?.lastIndexOf(')') ?? -1;
  if (stat === undefined || end < 0) return undefined;
  const v = stat.slice(end + 2).split(' ')[STARTTIME_AFTER_COMM];
  return v && /^\d+$/.test(v) ? v : undefined;
}

/** A name-based UUID (RFC 9562 §5.5, version 5: SHA-1 of the namespace's bytes and the name). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC variant
  const hex = h.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface InstanceSources {
  machineIdPath?: string;
  bootIdPath?: string;
  statPath?: string;
  pid?: number;
}

let randomInstance: string | undefined;

/**
 * service.instance.id: one per agent process, the same across its reloads, another at each start.
 * A UUID v5 (the conventions' namespace) of the machine id, the boot id and the process's pid and
 * start time: pid and start time tell processes of one boot apart, the boot id boots of one machine,
 * the machine id machines (so a clone of a VM image differs once its machine id does), and no
 * state is kept. Where /proc does not say, a random UUID v4 drawn once per process.
 */
export function serviceInstanceId(src: InstanceSources = {}): string {
  const machine = readMachineId(src.machineIdPath) ?? hostname();
  const boot = readTrimmed(src.bootIdPath ?? BOOT_ID);
  const start = processStartTicks(src.statPath);
  if (boot === undefined || start === undefined) return (randomInstance ??= randomUUID());
  return uuidV5(SERVICE_INSTANCE_NAMESPACE, `${machine}:${boot}:${src.pid ?? process.pid}:${start}`);
}

/**
 * Defaults < detected host identity < `service.telemetry.resource` (already merged with OTEL_* by the
 * config loader, so OTEL_RESOURCE_ATTRIBUTES may set service.instance.id too).
 */
export function buildResource(telemetry: ServiceConfig['telemetry'], machineIdPath?: string): Resource {
  const attrs: Record<string, string> = {
    'service.name': 'netwatch',
    'service.version': pkg.version,
    'service.instance.id': serviceInstanceId({ machineIdPath }),
    'host.name': hostname(),
  };
  const machineId = readMachineId(machineIdPath);
  if (machineId) attrs['host.id'] = machineId;
  return defaultResource().merge(resourceFromAttributes({ ...attrs, ...telemetry.resource }, { schemaUrl: SCHEMA_URL }));
}
