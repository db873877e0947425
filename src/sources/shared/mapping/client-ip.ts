import { isIP } from 'node:net';

export interface ClientAddress {
  /** A valid IPv4 or IPv6 address (`node:net` isIP), without brackets or port. */
  address: string;
  port?: number;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
/** An IPv6 zone index: `%eth0`, `%12`, or URL-encoded `%25eth0`. */
const ZONE = /%[0-9A-Za-z._~-]+$/;

/**
 * Reads the IP address (and port) out of the forms the audit APIs write into their IP fields
 * (`ClientIP`, `ipAddress`, ...): `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
 * `[2001:db8::1]`, `[2001:db8::1]:5678`, `[1.2.3.4]:5678`, `::ffff:1.2.3.4`, `fe80::1%eth0`.
 * Anything that is not an IP (empty, null, a host name, `NOTANIPV4 (...)`) gives undefined:
 * the raw value stays in the record, but `client.address` only ever holds a valid address.
 * IPv4-mapped IPv6 addresses become plain IPv4, so one client has one address in queries and GeoIP.
 * An IPv6 zone index (`%eth0`) is dropped: it names an interface of the machine that logged the
 * address, not part of the client's address, and Elasticsearch `ip` fields and GeoIP take none.
 */
export function parseClientAddress(raw: unknown): ClientAddress | undefined {
  if (typeof raw !== 'string') return undefined;
  let host = raw.trim();
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) {
    host = bracketed[1] as string;
    portText = bracketed[2];
  } else if (isIP(host) === 0) {
    // One colon: host:port (an IPv6 address has at least two).
    const hostPort = /^([^:]+):(\d+)$/.exec(host);
    if (!hostPort) return undefined;
    host = hostPort[1] as string;
    portText = hostPort[2];
  }
  if (ZONE.test(host) && host.includes(':')) host = host.replace(ZONE, '');
  const mapped = IPV4_MAPPED.exec(host);
  if (mapped && isIP(mapped[1] as string) === 4) host = mapped[1] as string;
  if (isIP(host) === 0) return undefined;
  const port = portText === undefined ? undefined : Number(portText);
  return port !== undefined && port <= 65_535 ? { address: host, port } : { address: host };
}
