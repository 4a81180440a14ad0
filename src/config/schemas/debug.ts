// exporters.debug: a periodic summary on stdout (the collector's debug exporter, for netwatch's own output).
import { defineComponent } from '../component';
import type { DebugExporterConfig } from '../types';

export const debug = defineComponent<DebugExporterConfig, { verbosity: DebugExporterConfig['verbosity'] }>({
  type: 'debug',
  summary: 'prints what would be exported on stdout',
  schema: () => ({
    schema: {
      verbosity: {
        doc: 'basic: one summary line per export; normal: one line per metric or log record; detailed: everything.',
        format: 'nw.verbosity',
        default: 'basic',
      },
    },
    hints: {
      sampling_initial: 'netwatch has no debug sampling; use verbosity basic',
      sampling_thereafter: 'netwatch has no debug sampling; use verbosity basic',
    },
  }),
  build: (s, ctx) => ({ type: 'debug', id: ctx.id, verbosity: s.verbosity }),
});
