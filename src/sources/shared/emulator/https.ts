import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { EmulatorTls } from './tls.ts';
import type { TruthRegistry } from './truth.ts';

/** What an emulator implements: answer one request (async allowed; a throw becomes a 500). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HttpsServerOptions {
  tls: Pick<EmulatorTls, 'certPem' | 'keyPem'>;
  handler: RequestHandler;
  /** Shared by every emulator: `GET /_emulator/truth` on any server lists every source's records. */
  truth: TruthRegistry;
  /** Default 0: an ephemeral port, so parallel tests never collide. */
  port?: number;
}

export interface RunningServer {
  /** Base URL without a trailing slash, e.g. https://127.0.0.1:43121 */
  url: string;
  close(): Promise<void>;
}

export const TRUTH_PATH = '/_emulator/truth';

/** Starts an HTTPS server on 127.0.0.1 only (emulators must never be reachable from elsewhere). */
export async function startHttpsServer(options: HttpsServerOptions): Promise<RunningServer> {
  const server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, (req, res) => {
    void dispatch(options, req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Keep-alive clients (undici pools) would otherwise hold the server open.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function dispatch(options: HttpsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === TRUTH_PATH) {
      sendJson(res, 200, options.truth.list());
      return;
    }
    await options.handler(req, res);
  } catch (err) {
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'EmulatorError', message: err instanceof Error ? err.message : String(err) } });
    else res.destroy();
  }
}

/** Writes a JSON response with an exact Content-Length (clients may rely on it for large blobs). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** sendJson for a body already written as JSON text. */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Reads a request body as text, bounded so a broken client cannot exhaust memory. */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** How a body behind a 200 can be broken (what proxies, gateways and half-written caches serve). */
export type BrokenBody = 'malformed' | 'truncated' | 'html';

/**
 * Answers 200 with `body` broken: `malformed` JSON (a stray token in the middle), `truncated` JSON
 * (the first half only, with a Content-Length that matches, so the transfer itself looks complete),
 * or an `html` page of the kind a captive proxy or gateway serves instead of the API's answer.
 */
export function sendBroken(res: ServerResponse, body: unknown, kind: BrokenBody): void {
  sendBrokenText(res, JSON.stringify(body), kind);
}

/** sendBroken for a body already written as JSON text. */
export function sendBrokenText(res: ServerResponse, json: string, kind: BrokenBody): void {
  const half = Math.floor(json.length / 2);
  const text =
    kind === 'html'
      ? '<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head><body><h1>Service temporarily unavailable</h1><p>Please try again later.</p></body></html>\n'
      : kind === 'truncated'
        ? json.slice(0, half)
        : `${json.slice(0, half)}}{"broken":,${json.slice(half)}`;
  const type = kind === 'html' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
