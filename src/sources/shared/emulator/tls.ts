// tsyringe (inside @peculiar/x509) needs the Reflect metadata API: load the standard polyfill first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

/**
 * TLS material for the emulators, made fresh at every start with WebCrypto (no openssl, nothing on
 * disk but the CA certificate, which clients need in order to trust the servers).
 */

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

// ECDSA P-256: generating keys is instant, and Node's TLS and msal-node both handle it.
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface EmulatorTls {
  /** PEM of the CA certificate that signed the server certificate (what clients trust). */
  caPem: string;
  /** Path of the CA certificate written into the requested folder. */
  caPath: string;
  /** Server certificate (PEM) for localhost, 127.0.0.1 and ::1. */
  certPem: string;
  /** Server private key (PKCS#8 PEM). */
  keyPem: string;
}

/** Generates a CA and a server certificate signed by it; writes `ca.pem` into `dir`. */
export async function createEmulatorTls(dir: string): Promise<EmulatorTls> {
  const notBefore = new Date(Date.now() - DAY_MS); // tolerate small clock differences
  const notAfter = new Date(Date.now() + 30 * DAY_MS);

  const caKeys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=auditrelay emulator CA',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  mkdirSync(dir, { recursive: true });
  const caPath = join(dir, 'ca.pem');
  const caPem = ca.toString('pem');
  writeFileSync(caPath, caPem + '\n');
  return { caPem, caPath, certPem: server.toString('pem'), keyPem: await privateKeyPem(serverKeys.privateKey) };
}

export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER certificate, hex: what Entra's `x5t#S256` header names. */
  thumbprintSha256: string;
}

/**
 * A self-signed RSA certificate such as an app registration holds for certificate credentials.
 * RSA because Entra accepts only RS256/PS256 client assertions.
 */
export async function createClientCertificate(commonName: string): Promise<SelfSignedCertificate> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    keys,
    signingAlgorithm: algorithm,
  });
  const thumbprint = Buffer.from(await cert.getThumbprint('SHA-256', crypto)).toString('hex');
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey), thumbprintSha256: thumbprint };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f; // keep the serial positive
  return Buffer.from(bytes).toString('hex');
}
