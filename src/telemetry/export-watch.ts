import { connect } from 'node:net';

/**
 * What the OTLP sink last saw, for `/readyz`: ready while the latest export request was accepted;
 * not ready while the latest one failed and is being retried; before any export, a TCP connect to
 * the endpoint decides (cheap, and says whether anything is listening there).
 */
export class ExportWatch {
  /** undefined: console mode, nothing to reach. */
  readonly endpoint: string | undefined;
  #last: { ok: boolean; at: number; outcome: string } | undefined;

  constructor(endpoint: string | undefined) {
    this.endpoint = endpoint;
  }

  note(outcome: string, at: number): void {
    // partial / bad-data / too-large are answers from a live endpoint: it is reachable.
    this.#last = { ok: outcome !== 'retry', at, outcome };
  }

  async check(timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    if (this.endpoint === undefined) return { ok: true, detail: 'console output' };
    if (this.#last) {
      const when = new Date(this.#last.at).toISOString();
      return this.#last.ok ? { ok: true, detail: `last export ${this.#last.outcome} at ${when}` } : { ok: false, detail: `last export failed at ${when}; retrying` };
    }
    const reachable = await tcpReachable(this.endpoint, timeoutMs);
    return { ok: reachable, detail: reachable ? 'endpoint accepts connections (nothing exported yet)' : 'endpoint does not accept connections' };
  }
}

export function tcpReachable(url: string, timeoutMs: number): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
