import PQueue from 'p-queue';
import type { DeliveryReport } from '../core/source.ts';
import type { AuditRecord } from '../core/record.ts';
import { backoffDelay, type BackoffPolicy } from '../core/backoff.ts';
import { formatDuration, sleep } from '../core/time.ts';
import type { Logger } from '../core/log.ts';
import { DeadLetterFile } from './dead-letter.ts';
import { encodeRecords, type ResourceCache } from './encode.ts';
import type { OtlpSender } from './otlp-sender.ts';
import { formatRecordLine } from './console-line.ts';

/** Where records go. `send` resolves only when every record was acknowledged or refused for good. */
export interface Sink {
  send(streamId: string, resource: Record<string, string>, records: AuditRecord[], signal: AbortSignal): Promise<DeliveryReport>;
  close(): Promise<void>;
}

export interface OtlpSinkOptions {
  maxBatchRecords: number;
  concurrency: number;
  retry: BackoffPolicy;
  deadLetter: DeadLetterFile;
  log: Logger;
  onRetry?: (reason: string) => void;
  /** Each export request's outcome kind and duration (for metrics and readiness). */
  onRequest?: (outcome: string, ms: number) => void;
}

/**
 * OTLP delivery with the guarantee the SDK's batch processor lacks: a batch counts as delivered only
 * when the endpoint answered 2xx for it. Transient failures are retried forever with capped backoff
 * (the caller is blocked meanwhile, which is the backpressure that pauses fetching); a request too
 * large is split; records refused for good go to the dead-letter file.
 */
export class OtlpSink implements Sink {
  readonly #sender: OtlpSender;
  readonly #resources: ResourceCache;
  readonly #options: OtlpSinkOptions;
  readonly #queue: PQueue;

  constructor(sender: OtlpSender, resources: ResourceCache, options: OtlpSinkOptions) {
    this.#sender = sender;
    this.#resources = resources;
    this.#options = options;
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  async send(streamId: string, resourceAttrs: Record<string, string>, records: AuditRecord[], signal: AbortSignal): Promise<DeliveryReport> {
    const resource = this.#resources.for(resourceAttrs);
    const batches: AuditRecord[][] = [];
    for (let i = 0; i < records.length; i += this.#options.maxBatchRecords) batches.push(records.slice(i, i + this.#options.maxBatchRecords));
    const reports = await Promise.all(batches.map((batch) => this.#sendBatch(streamId, resource, batch, signal)));
    return reports.reduce((a, b) => ({ accepted: a.accepted + b.accepted, rejected: a.rejected + b.rejected }), { accepted: 0, rejected: 0 });
  }

  async #sendBatch(streamId: string, resource: ReturnType<ResourceCache['for']>, batch: AuditRecord[], signal: AbortSignal): Promise<DeliveryReport> {
    const body = encodeRecords(batch, resource, this.#sender.settings.protocol);
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      const outcome = await this.#queue.add(() => this.#timedSend(body, signal), { signal });
      switch (outcome.kind) {
        case 'accepted':
          return { accepted: batch.length, rejected: 0 };
        case 'partial':
          // OTLP does not say which records were refused: keep the whole batch for replay, flagged.
          await this.#options.deadLetter.write(streamId, `partial success: ${outcome.rejected} of ${batch.length} rejected: ${outcome.message}`, batch, {
            partial: true,
          });
          this.#options.log.error({ stream: streamId, rejected: outcome.rejected, batch: batch.length, deadLetter: this.#options.deadLetter.path }, 'endpoint refused records (partial success); batch written to the dead-letter file');
          return { accepted: batch.length - outcome.rejected, rejected: outcome.rejected };
        case 'too-large':
        case 'bad-data':
          if (batch.length > 1) {
            // Halve until the bad record is alone, so one poison record does not take its neighbours with it.
            const mid = Math.ceil(batch.length / 2);
            const [a, b] = await Promise.all([
              this.#sendBatch(streamId, resource, batch.slice(0, mid), signal),
              this.#sendBatch(streamId, resource, batch.slice(mid), signal),
            ]);
            return { accepted: a.accepted + b.accepted, rejected: a.rejected + b.rejected };
          }
          await this.#options.deadLetter.write(streamId, outcome.reason, batch);
          this.#options.log.error({ stream: streamId, uid: batch[0]?.uid, reason: outcome.reason, deadLetter: this.#options.deadLetter.path }, 'endpoint refused a record for good; written to the dead-letter file');
          return { accepted: 0, rejected: 1 };
        case 'retry': {
          const delay = outcome.afterMs ?? backoffDelay(this.#options.retry, attempt);
          this.#options.onRetry?.(outcome.reason);
          const level = outcome.misconfigured || attempt >= 3 ? 'error' : 'warn';
          this.#options.log[level](
            { stream: streamId, attempt: attempt + 1, reason: outcome.reason, retryIn: formatDuration(delay), endpoint: this.#sender.settings.url },
            outcome.misconfigured ? 'OTLP endpoint refuses requests (check endpoint URL and headers); holding records and retrying' : 'OTLP export failed; holding records and retrying',
          );
          await sleep(delay, signal);
          break;
        }
      }
    }
  }

  async #timedSend(body: Parameters<OtlpSender['send']>[0], signal: AbortSignal): ReturnType<OtlpSender['send']> {
    const started = performance.now();
    const outcome = await this.#sender.send(body, signal);
    this.#options.onRequest?.(outcome.kind, performance.now() - started);
    return outcome;
  }

  async close(): Promise<void> {
    await this.#queue.onIdle();
    await this.#sender.close();
  }
}

/** Prints one readable line per record on stdout (the demo without a collector). Acknowledged once written. */
export class ConsoleSink implements Sink {
  readonly #out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }
  async send(streamId: string, _resource: Record<string, string>, records: AuditRecord[]): Promise<DeliveryReport> {
    const text = records.map((r) => formatRecordLine(streamId, r)).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => this.#out.write(text, (err) => (err ? reject(err) : resolve())));
    return { accepted: records.length, rejected: 0 };
  }
  async close(): Promise<void> {}
}
