// How each catalogue attribute is read from an sni event, and attribute plans (series key on the
// hot path, the attribute object once per series) for the sni receiver's metrics and log records.
import type { SniPipelineEvent } from '../../pipeline/event';
import type { SniReceiverConfig } from './config';
import { AttributePlan, type Extractor, ownerExtractors, type Extractors, metricAttributes } from '../../telemetry/attribute-plan';
import { ATTR, type AttributeName } from '../../catalogue/generated';

type Extract = Extractor<SniPipelineEvent>;

const nonEmpty = (s: string | undefined): string | undefined => (s === '' ? undefined : s);

/** TLS version numbers as people write them (RFC 8446 §4.2.1 numbering); drafts and unknowns in hex. */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0304:
      return '1.3';
    case 0x0303:
      return '1.2';
    case 0x0302:
      return '1.1';
    case 0x0301:
      return '1.0';
    case 0x0300:
      return 'ssl3';
    case 0x0002:
      return 'ssl2';
    default:
      return `0x${v.toString(16).padStart(4, '0')}`;
  }
}

/** Every attribute an sni event can carry. */
export const SNI_EXTRACTORS: Partial<Record<AttributeName, Extract>> = {
  [ATTR.SERVER_ADDRESS]: (ev) => ev.serverName,
  [ATTR.SERVER_PORT]: (ev) => ev.serverPort,
  // The TC hook's side of the interface: a packet leaving it is transmitted, one arriving received.
  [ATTR.NETWORK_IO_DIRECTION]: (ev) => (ev.direction === 'egress' ? 'transmit' : 'receive'),
  [ATTR.NETWORK_TYPE]: (ev) => ev.networkType,
  [ATTR.NETWORK_INTERFACE_NAME]: (ev) => nonEmpty(ev.interfaceName),
  [ATTR.SOURCE_ADDRESS]: (ev) => ev.clientAddress,
  [ATTR.SOURCE_PORT]: (ev) => ev.clientPort,
  [ATTR.DESTINATION_ADDRESS]: (ev) => ev.serverAddress,
  [ATTR.DESTINATION_PORT]: (ev) => ev.serverPort,
  [ATTR.TLS_CLIENT_ALPN]: (ev) => [...ev.alpn],
  [ATTR.TLS_CLIENT_VERSIONS]: (ev) => ev.versions.map(tlsVersionName),
  [ATTR.TLS_CLIENT_ECH]: (ev) => ev.ech,
  [ATTR.TLS_CLIENT_SSLV2]: (ev) => ev.sslv2,
  ...ownerExtractors<SniPipelineEvent>(),
};

/** A plan over sni events; `overrides` replace an attribute's extractor (the metrics bound server.address). */
export type SniPlan = AttributePlan<SniPipelineEvent>;
export const sniPlan = (names: readonly AttributeName[], overrides: Extractors<SniPipelineEvent> = {}): SniPlan =>
  new AttributePlan(names, SNI_EXTRACTORS, 'sni', overrides);

/** A metric's plan: its catalogue attributes minus the opt-ins the receiver's `include` leaves off. */
export const sniMetricPlan = (
  attributes: readonly AttributeName[],
  include: SniReceiverConfig['include'],
  overrides: Extractors<SniPipelineEvent> = {},
): SniPlan => sniPlan(metricAttributes(attributes, include), overrides);
