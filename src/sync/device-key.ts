/**
 * A device's Ed25519 key pair (node:crypto): made once per device, kept in its profile, used to sign every op it
 * writes. The public key travels as a W3C Multikey: base58btc multibase of the multicodec ed25519-pub prefix
 * (0xed 0x01) and the 32 raw key bytes, "z6Mk…". Signatures are base58btc multibase of the 64 signature bytes.
 */
import { base58 } from '@scure/base';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { FedinvoiceError } from '../model/errors.ts';
import { withProof } from '../model/hash.ts';
import type { Op, OpType } from '../model/ops.ts';
import { signedText, type VerifySignature } from '../model/signatures.ts';

const ED25519_PUB = Uint8Array.of(0xed, 0x01);

/** A device's signing key: the private key as PKCS#8 PEM (what the profile stores) and its Multikey. */
export interface DeviceKey {
  readonly privateKeyPem: string;
  readonly publicKeyMultibase: string;
}

export function generateDeviceKey(): DeviceKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKeyMultibase: multikeyOf(publicKey) };
}

function multikeyOf(publicKey: KeyObject): string {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return `z${base58.encode(Uint8Array.from([...ED25519_PUB, ...raw]))}`;
}

/** The public key of a Multikey, or null when it is not an Ed25519 Multikey. */
function publicKeyOf(multikey: string): KeyObject | null {
  try {
    if (!multikey.startsWith('z')) return null;
    const bytes = base58.decode(multikey.slice(1));
    if (bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) return null;
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(bytes.subarray(2)).toString('base64url') }, format: 'jwk' });
  } catch {
    return null;
  }
}

/** Signs ops as one device: the key is parsed once. */
export interface OpSigner {
  readonly publicKeyMultibase: string;
  sign<T extends OpType>(op: Op<T>): Op<T>;
}

export function opSigner(key: DeviceKey): OpSigner {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.privateKeyPem);
  } catch {
    throw new FedinvoiceError('the device profile holds a signing key that cannot be read: restore the profile from a backup or add the device again');
  }
  if (multikeyOf(createPublicKey(privateKey)) !== key.publicKeyMultibase) {
    throw new FedinvoiceError("the device profile's public key does not belong to its private key: restore the profile or add the device again");
  }
  return {
    publicKeyMultibase: key.publicKeyMultibase,
    sign: (op) => {
      const signature = sign(null, Buffer.from(signedText(op.id), 'utf8'), privateKey);
      return withProof(op, { key: key.publicKeyMultibase, value: `z${base58.encode(signature)}` });
    },
  };
}

/** Ed25519 verification of a multibase signature by a Multikey. Never throws: anything malformed is false. */
export const verifyEd25519: VerifySignature = (multikey, text, signature) => {
  const publicKey = publicKeyOf(multikey);
  if (publicKey === null || !signature.startsWith('z')) return false;
  try {
    return verify(null, Buffer.from(text, 'utf8'), publicKey, base58.decode(signature.slice(1)));
  } catch {
    return false;
  }
};

/**
 * Verification once per signature: ops are immutable and re-folded on every sync, and an Ed25519 check costs
 * ~50 µs. Keyed by everything that was checked, so an altered copy is checked afresh.
 */
export function cachedVerifier(inner: VerifySignature = verifyEd25519, limit = 1_000_000): VerifySignature {
  const verdicts = new Map<string, boolean>();
  return (key, text, signature) => {
    const id = `${key} ${signature} ${text}`;
    let verdict = verdicts.get(id);
    if (verdict === undefined) {
      verdict = inner(key, text, signature);
      if (verdicts.size >= limit) verdicts.clear();
      verdicts.set(id, verdict);
    }
    return verdict;
  };
}

/** The verifier every replica of this process shares: an op checked once is never checked again. */
export const sharedVerifier: VerifySignature = cachedVerifier();
