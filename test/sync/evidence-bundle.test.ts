import { describe, expect, it } from 'vitest';
import { fold } from '../../src/model/fold.ts';
import type { AnyOp, SourcedOp } from '../../src/model/ops.ts';
import type { PublishedKey } from '../../src/model/signatures.ts';
import { generateDeviceKey, opSigner, sharedVerifier } from '../../src/sync/device-key.ts';
import { verifyBundle, writeBundle } from '../../src/sync/evidence-bundle.ts';
import { generateNegotiation } from '../support/negotiation.ts';
import { BUYER, SELLER } from '../support/sim.ts';

// A bundle is checked offline, with no pod: it holds the ops and the keys that signed them. Any byte changed in an
// op's line makes it fail, naming that op.

/** A negotiation that reaches "received and paid", every op signed by a device key of its party. */
function signedDeal(): { ops: SourcedOp[]; keys: PublishedKey[] } {
  const n = generateNegotiation({ seed: 7, ops: 30, products: 2, statusFlow: 'end', syncRate: 0.4 });
  const keys: PublishedKey[] = [];
  const signers = new Map<string, ReturnType<typeof opSigner>>();
  const ops = n.ops.map(({ op, container }) => {
    const owner = container === BUYER.container ? BUYER.webId : SELLER.webId;
    const id = `${owner} ${op.device}`;
    let signer = signers.get(id);
    if (!signer) {
      signers.set(id, (signer = opSigner(generateDeviceKey())));
      keys.push({ key: signer.publicKeyMultibase, controller: owner, label: op.device, revoked: false });
    }
    return { op: signer.sign(op) as AnyOp, container };
  });
  return { ops, keys };
}

const { ops, keys } = signedDeal();
const invoice = fold(ops, { origin: BUYER.container, signatures: { keys, verify: sharedVerifier } });
const bundle = writeBundle(invoice, ops, BUYER.container, keys);

describe('an evidence bundle', () => {
  it('verifies offline: the agreed invoice, who signed each decision, the terms hash', () => {
    expect(invoice.status).toBe('received and paid');
    const verdict = verifyBundle(bundle);
    if (!verdict.ok) throw new Error(verdict.problem);
    expect(verdict.termsHash).toBe(invoice.agreement!.termsHash);
    expect(verdict.invoice.status).toBe('received and paid');
    expect(verdict.invoice.totals).toEqual(invoice.totals);
    const accept = verdict.decisions.find((decision) => decision.type === 'Accept' && decision.opId === invoice.agreement!.acceptOpId);
    expect(accept?.webId).toBe(invoice.agreement!.acceptedBy.webId);
    expect(verdict.decisions.map((decision) => decision.type)).toEqual(expect.arrayContaining(['Propose', 'Accept', 'MarkShipped', 'MarkPaid', 'MarkReceived']));
  });

  it('fails when any one byte of an op line changes, naming that op', () => {
    const lines = bundle.trimEnd().split('\n');
    let checked = 0;
    // Every line's every 7th byte (a different character at each place), and the last byte of every line.
    for (let l = 1; l < lines.length; l++) {
      const line = lines[l]!;
      const id = (JSON.parse(line) as AnyOp).id;
      for (let at = 0; at < line.length; at += line.length - at > 7 ? 7 : 1) {
        const changed = line.slice(0, at) + (line[at] === 'a' ? 'b' : 'a') + line.slice(at + 1);
        const tampered = [...lines.slice(0, l), changed, ...lines.slice(l + 1)].join('\n');
        const verdict = verifyBundle(tampered);
        expect(verdict.ok, `byte ${at} of line ${l + 1} changed`).toBe(false);
        if (!verdict.ok && verdict.opId !== id) {
          // A changed id names the op by the id the line now claims.
          expect(verdict.problem).toContain(`line ${l + 1}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(lines.length * 10);
  });

  it('fails when an op is left out, naming an op built on it', () => {
    const lines = bundle.trimEnd().split('\n');
    const acceptLine = lines.findIndex((line) => line.includes(`"id":"${invoice.agreement!.acceptOpId}"`));
    const verdict = verifyBundle([...lines.slice(0, acceptLine), ...lines.slice(acceptLine + 1)].join('\n'));
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.problem).toMatch(/^op [0-9a-f]{64} \(\w+\) cannot be placed: waits for op /);
  });

  it('fails when a key in its header is swapped for another', () => {
    const lines = bundle.trimEnd().split('\n');
    const header = JSON.parse(lines[0]!) as { keys: PublishedKey[] };
    header.keys[0] = { ...header.keys[0]!, key: generateDeviceKey().publicKeyMultibase };
    const verdict = verifyBundle([JSON.stringify(header), ...lines.slice(1)].join('\n'));
    expect(verdict).toMatchObject({ ok: false, problem: expect.stringContaining('which the bundle does not list') });
  });
});
