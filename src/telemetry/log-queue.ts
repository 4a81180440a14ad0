// The SDK's BatchLogRecordProcessor drops records silently when its queue is full (a burst over
// its capacity while an export is slow). In front of it, this keeps the same bound itself and
// counts what it turns away, so nothing is lost without a count and one warning. Behind it, the
// records of failed exports are kept and sent again (RetainingLogExporter); each record's export
// is counted once it ends, delivered or given up, as the conventions' otel.sdk.* metrics count.
import type { Context } from '@opentelemetry/api';
import { ExportError } from '../errors';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, SdkLogRecord } from '@opentelemetry/sdk-logs';
import { exportErrorType } from './export-health';
import type { ExportCounts } from './self-stats';

/** The SDK's default queue (BatchLogRecordProcessorBase maxQueueSize). */
export const LOG_QUEUE_CAPACITY = 2048;
/** The conventions' error.type of records a full queue turned away. */
export const QUEUE_FULL = 'queue_full';

export class BoundedLogProcessor implements LogRecordProcessor {
  /** Records handed to the batch processor and not yet settled by an export (queued or in flight). */
  private pending = 0;
  dropped = 0;

  constructor(
    private readonly inner: LogRecordProcessor,
    private readonly capacity: number,
    private readonly counts: Pick<ExportCounts, 'dropped'>,
  ) {}

  onEmit(record: SdkLogRecord, context?: Context): void {
    // `pending` counts in-flight records the SDK has already taken off its queue, so it is never
    // below the SDK's queue length: whatever passes here, the SDK accepts.
    if (this.pending >= this.capacity) {
      this.dropped++;
      this.counts.dropped(1);
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

/** Kept records are retried after 1 s, then twice as long each time, at most every 30 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** Records per request: the SDK's batch size, which keeps a request well inside a collector's 4 MiB limit. */
export const LOG_EXPORT_CHUNK = 512;

/**
 * Keeps the records of failed exports (a collector down or hung) and sends them again before the
 * next batch, so an outage shorter than the bound loses no log record. At most `capacity` records
 * wait here; those beyond are given up. Requests carry at most LOG_EXPORT_CHUNK records; a
 * recovered backlog drains chunk after chunk, one at a time.
 *
 * Counts, in the conventions' terms: every batch the processor hands over is processed; a record's
 * export ends when it is delivered, or given up — turned away with no room to keep it (`queue_full`)
 * or pushed out of the backlog after a failed attempt (that failure's error.type). A record kept
 * for another attempt is still in flight, so it is counted once, however many attempts it takes.
 */
export class RetainingLogExporter implements LogRecordExporter {
  private backlog: ReadableLogRecord[] = [];
  private inFlight = false;
  /** The batch processor exports only when new records come: kept ones are retried on this timer too. */
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  private closed = false;

  constructor(
    private readonly inner: LogRecordExporter,
    private readonly capacity: number,
    private readonly counts: Pick<ExportCounts, 'processed' | 'exported' | 'givenUp'>,
  ) {}

  /** Records waiting for a later export. */
  get retained(): number {
    return this.backlog.length;
  }

  export(logs: ReadableLogRecord[], done: (r: ExportResult) => void): void {
    this.counts.processed(logs.length);
    this.keep(logs);
    // The batch processor stops waiting after its timeout, not the request: one at a time reaches the collector.
    if (this.inFlight)
      return done({ code: ExportResultCode.FAILED, error: new ExportError('the previous export has not answered yet; its records wait for the next one') });
    this.sendNext(done);
  }

  private sendNext(done: (r: ExportResult) => void): void {
    if (this.backlog.length === 0) return done({ code: ExportResultCode.SUCCESS });
    const chunk = this.backlog.splice(0, LOG_EXPORT_CHUNK);
    this.inFlight = true;
    this.inner.export(chunk, (r) => {
      this.inFlight = false;
      if (r.code !== ExportResultCode.SUCCESS) {
        // Back in front: they are older than anything kept since; what no longer fits is given up.
        this.backlog = chunk.concat(this.backlog);
        const excess = this.backlog.length - this.capacity;
        if (excess > 0) {
          this.backlog.length = this.capacity;
          this.counts.givenUp(excess, exportErrorType(r.error));
        }
        this.scheduleRetry();
        return done(r);
      }
      this.counts.exported(chunk.length);
      this.retryMs = RETRY_MIN_MS;
      this.sendNext(done);
    });
  }

  /** Try the kept records again later, backing off while the collector stays away. */
  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.inFlight && this.backlog.length) this.sendNext(() => {});
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Appended while there is room; the rest is given up (a full queue keeps what it has). */
  private keep(records: ReadableLogRecord[]): void {
    const room = Math.max(0, this.capacity - this.backlog.length);
    if (records.length > room) this.counts.givenUp(records.length - room, QUEUE_FULL);
    for (let i = 0; i < Math.min(room, records.length); i++) this.backlog.push(records[i]!);
  }

  /**
   * Sends what waits when nothing is in flight (the batch processor calls export only when it has
   * new records, and calls this in the middle of its own exports too).
   */
  async forceFlush(): Promise<void> {
    if (this.backlog.length && !this.inFlight) await new Promise<void>((resolve) => this.sendNext(() => resolve()));
    await this.inner.forceFlush?.();
  }

  shutdown(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.inner.shutdown();
  }
}
