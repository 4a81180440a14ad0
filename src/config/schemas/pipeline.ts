// One entry of service.pipelines: which receivers feed which processors and exporters.
import type convict from 'convict';

export interface PipelineRaw {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export const pipelineSchema: convict.Schema<PipelineRaw> = {
  receivers: { doc: 'Receiver ids whose events enter this pipeline (at least one).', format: 'nw.id-list', default: [] },
  processors: { doc: 'Processor ids, applied in this order.', format: 'nw.id-list', default: [] },
  exporters: { doc: 'Exporter ids that receive what the processors keep (at least one).', format: 'nw.id-list', default: [] },
};
