// The SDK's BatchLogRecordProcessor drops records silently when its queue is full (a burst over
// its capacity while an export is slow). In front of it, this keeps the same bound itself and
// counts what it turns away, so nothing is lost without a count and one warning.
import type { Context } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';

/** The SDK's default queue (BatchLogRecordProcessorBase maxQueueSize). */
export const LOG_QUEUE_CAPACITY = 2048;

export class BoundedLogProcessor implements LogRecordProcessor {
  /** Records handed to the batch processor and not yet settled by an export (queued or in flight). */
  private pending = 0;
  dropped = 0;

  constructor(
    private readonly inner: LogRecordProcessor,
    private readonly capacity: number,
    private readonly onDrop: () => void,
  ) {}

  onEmit(record: SdkLogRecord, context?: Context): void {
    // `pending` counts in-flight records the SDK has already taken off its queue, so it is never
    // below the SDK's queue length: whatever passes here, the SDK accepts.
    if (this.pending >= this.capacity) {
      this.dropped++;
      this.onDrop();
      return;
    }
    this.pending++;
    this.inner.onEmit(record, context);
  }

  /** An export of `n` records ended (delivered, failed or timed out). */
  settled(n: number): void {
    this.pending = Math.max(0, this.pending - n);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/**
 * Reports each export's record count once to `settled`: when the exporter answers, or after
 * `timeoutMs` if it never does (the batch processor gives up on it then too).
 */
export function settleExports(inner: LogRecordExporter, timeoutMs: number, settled: (n: number) => void): LogRecordExporter {
  return {
    export(logs: ReadableLogRecord[], done: (r: ExportResult) => void) {
      let open = true;
      const settle = (): void => {
        if (!open) return;
        open = false;
        clearTimeout(timer);
        settled(logs.length);
      };
      const timer = setTimeout(settle, timeoutMs);
      timer.unref();
      inner.export(logs, (r) => {
        settle();
        done(r);
      });
    },
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
    shutdown: () => inner.shutdown(),
  };
}

/**
 * Keeps the records of failed exports (a collector down or hung) and sends them again in front of
 * the next batch, so an outage shorter than the bound loses no log record. At most `capacity`
 * records are kept; those beyond are turned away like a full queue's and counted by `onDrop`.
 */
export class RetainingLogExporter implements LogRecordExporter {
  private backlog: ReadableLogRecord[] = [];
  private inFlight = 0;

  constructor(
    private readonly inner: LogRecordExporter,
    private readonly capacity: number,
    private readonly onDrop: (n: number) => void,
  ) {}

  /** Records kept from failed exports, waiting for the next one. */
  get retained(): number {
    return this.backlog.length;
  }

  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    const batch = this.backlog.length ? this.backlog.concat(logs) : logs;
    this.backlog = [];
    this.inFlight++;
    this.inner.export(batch, (r) => {
      this.inFlight--;
      if (r.code !== ExportResultCode.SUCCESS) this.retain(batch);
      done(r);
    });
  }

  /** Failed records go back in front (they are older than anything kept since); the oldest are kept, as a full queue does. */
  private retain(records: ReadableLogRecord[]): void {
    const room = Math.max(0, this.capacity - this.backlog.length);
    if (records.length > room) this.onDrop(records.length - room);
    this.backlog = records.slice(0, room).concat(this.backlog);
  }

  /**
   * Sends what is retained when nothing is in flight (the batch processor calls export only when it
   * has new records, and calls this in the middle of its own exports too).
   */
  async forceFlush(): Promise<void> {
    if (this.backlog.length && this.inFlight === 0) await new Promise<void>((resolve) => this.export([], () => resolve()));
    await this.inner.forceFlush?.();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
