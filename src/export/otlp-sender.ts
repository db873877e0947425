import { promisify } from 'node:util';
import { tlsConnectOptions } from '../config-kit/tls-context.ts';
import { gzip as gzipCb } from 'node:zlib';
import { Agent, request } from 'undici';
import { classifyResponse, type ExportOutcome } from './outcome.ts';
import { decodeResponse, type Encoding } from './encode.ts';
import type { OtlpSettings } from './otlp-settings.ts';
import { VERSION } from '../version.ts';

const gzip = promisify(gzipCb);

/** One POST of an already-encoded ExportLogsServiceRequest; network failures become `retry`. */
export class OtlpSender {
  readonly settings: OtlpSettings;
  readonly #agent: Agent;
  readonly #headers: Record<string, string>;

  constructor(settings: OtlpSettings) {
    this.settings = settings;
    this.#agent = new Agent({
      connect: tlsConnectOptions(settings.tls),
      keepAliveTimeout: 30_000,
      connections: 16,
    });
    this.#headers = {
      ...settings.headers,
      'content-type': settings.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf',
      'user-agent': `auditrelay/${VERSION}`,
      ...(settings.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  async send(body: Uint8Array, signal?: AbortSignal): Promise<ExportOutcome> {
    const payload = this.settings.compression === 'gzip' ? await gzip(body) : body;
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(this.settings.url, {
        method: 'POST',
        body: payload,
        headers: this.#headers,
        dispatcher: this.#agent,
        signal: combined,
      });
      const bytes = new Uint8Array(await res.body.arrayBuffer());
      const retryAfter = headerValue(res.headers['retry-after']);
      let partial = {};
      let text = '';
      if (res.statusCode >= 200 && res.statusCode < 300) {
        try {
          partial = decodeResponse(bytes, this.settings.protocol as Encoding);
        } catch {
          // A 2xx whose body is not an ExportLogsServiceResponse still means "accepted" (spec: empty body allowed).
        }
      } else {
        text = Buffer.from(bytes).toString('utf8').replace(/\s+/g, ' ').trim();
      }
      return classifyResponse(res.statusCode, retryAfter, partial, text, Date.now());
    } catch (err) {
      if (signal?.aborted) throw err;
      const reason = timeout.aborted ? `no answer within ${this.settings.timeoutMs} ms` : describeNetworkError(err);
      return { kind: 'retry', reason };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
}
