// Observable instruments from catalogue descriptors, for every receiver's and processor's tables:
// the instrument kind and value type come from otel/catalogue.yaml, never from the caller.
import { type Meter, type Observable, ValueType } from '@opentelemetry/api';
import type { MetricDescriptor } from '../catalogue/generated';
import type { SumTable } from '../pipeline/aggregate';

/** The observable instrument the descriptor declares: a counter, an up-down counter, else a gauge. */
export function createObservable(meter: Meter, m: MetricDescriptor): Observable {
  const options = { unit: m.unit, description: m.description, valueType: m.valueType === 'int' ? ValueType.INT : ValueType.DOUBLE };
  return m.instrument === 'counter'
    ? meter.createObservableCounter(m.name, options)
    : m.instrument === 'updowncounter'
      ? meter.createObservableUpDownCounter(m.name, options)
      : meter.createObservableGauge(m.name, options);
}

/** Report each table's series through its instrument at every collection (one batch callback). */
export function observeTables(meter: Meter, observables: readonly (readonly [Observable, SumTable])[]): void {
  if (observables.length === 0) return;
  meter.addBatchObservableCallback(
    (observer) => {
      for (const [inst, t] of observables) for (const s of t.series.values()) observer.observe(inst, s.value, s.attrs);
    },
    observables.map(([o]) => o),
  );
}
