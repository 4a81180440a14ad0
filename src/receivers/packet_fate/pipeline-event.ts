// What the packet_fate receiver hands the pipelines: interval counts and sampled records, enriched.
import type { Enrichment } from '../../enrich/types';
import type { FateCount, FateSample } from './event';

/**
 * From the `packet_fate` receiver: `count` records are one interval's events of one kind, reason,
 * interface and owner, summed in the kernel (they feed metrics); `sample` records are the first N
 * events of each kind in an interval, one by one, with the packet's tuple (they feed log records).
 */
export type PacketFateCountEvent = FateCount & Enrichment & { readonly source: 'packet_fate'; readonly receiver: string; readonly record: 'count' };
export type PacketFateSampleEvent = FateSample &
  Enrichment & {
    readonly source: 'packet_fate';
    readonly receiver: string;
    readonly record: 'sample';
    /** Drop: where in the kernel it happened, `function+0xoffset` from /proc/kallsyms, when readable. */
    readonly locationName?: string;
  };
export type PacketFatePipelineEvent = PacketFateCountEvent | PacketFateSampleEvent;
