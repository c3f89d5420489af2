// The serving certificate: loaded from files and re-read when they change (cert-manager
// renews it in place), or made self-signed for localhost when none is given (npm start).
// A new pair that does not load is refused and the one in use stays.
import { createPrivateKey, createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSecureContext } from 'node:tls';

export interface TlsPair {
  cert: string;
  key: string;
}

/**
 * Mozilla's "intermediate" server profile (ssl-config.mozilla.org, guideline 5.7): TLS 1.3,
 * and TLS 1.2 with forward-secret AEAD suites only (ECDHE with AES-GCM or ChaCha20-Poly1305);
 * no CBC, no SHA-1 MACs, no static RSA key exchange. The API server's Go client offers all of
 * these. The client picks among them (the profile leaves the order to the client: each
 * listed suite is strong). Given on every secure context, the reloaded ones included:
 * setSecureContext builds a new context from its options alone.
 */
export const TLS_PROFILE = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  ecdhCurve: 'X25519:prime256v1:secp384r1',
  honorCipherOrder: false,
} as const;

export interface CertificateInfo {
  subject: string;
  serialNumber: string;
  validTo: string;
  fingerprint256: string;
}

/** null when the pair can serve; otherwise why not (unreadable PEM, key does not match). */
export function checkPair(pair: TlsPair): string | null {
  try {
    const cert = new X509Certificate(pair.cert);
    const key = createPrivateKey(pair.key);
    if (!cert.checkPrivateKey(key)) return 'the key does not belong to the certificate';
    createSecureContext({ ...pair, ...TLS_PROFILE });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function certificateInfo(certPem: string): CertificateInfo {
  const cert = new X509Certificate(certPem);
  return { subject: cert.subject.replace(/\n/g, ', '), serialNumber: cert.serialNumber, validTo: cert.validTo, fingerprint256: cert.fingerprint256 };
}

export async function readPair(certFile: string, keyFile: string): Promise<TlsPair> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return { cert, key };
}

export const pairDigest = (pair: TlsPair): string => createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');

export type ReloadResult = { changed: false } | { changed: true; ok: true; info: CertificateInfo } | { changed: true; ok: false; error: string };

/**
 * Re-reads the files and applies a changed, valid pair. `apply` is the server's
 * setSecureContext: new connections get the new certificate, open ones keep theirs.
 */
export function certificateReloader(certFile: string, keyFile: string, initial: TlsPair, apply: (pair: TlsPair) => void) {
  let current = pairDigest(initial);
  let refused: string | null = null;
  return async (): Promise<ReloadResult> => {
    let pair: TlsPair;
    try {
      pair = await readPair(certFile, keyFile);
    } catch (err) {
      return { changed: true, ok: false, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    const digest = pairDigest(pair);
    // The same broken pair is reported once, not on every poll.
    if (digest === current || digest === refused) return { changed: false };
    const error = checkPair(pair);
    if (error !== null) {
      refused = digest;
      return { changed: true, ok: false, error };
    }
    apply(pair);
    current = digest;
    refused = null;
    return { changed: true, ok: true, info: certificateInfo(pair.cert) };
  };
}

/**
 * A self-signed certificate for localhost and 127.0.0.1, written to a temporary directory
 * so curl can trust it. It comes from the `selfsigned` package, a devDependency: local
 * development has it, the production image (which always mounts a certificate) does not.
 */
export async function selfSignedPair(): Promise<TlsPair & { certFile: string }> {
  let generate: typeof import('selfsigned').generate;
  try {
    ({ generate } = await import('selfsigned'));
  } catch {
    throw new Error(
      'no --tls-cert/--tls-key given, and making a self-signed certificate needs the "selfsigned" devDependency (npm install); in a cluster, mount a certificate and pass --tls-cert and --tls-key',
    );
  }
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'portcullis-dev-'));
  const certFile = path.join(dir, 'tls.crt');
  await writeFile(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, certFile };
}
