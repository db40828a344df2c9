import type { DeviceKey } from '../../src/sync/device-key.ts';
import { generateDeviceKey, opSigner } from '../../src/sync/device-key.ts';
import { Replica } from '../../src/sync/replica.ts';
import { MemoryDeviceStore } from '../../src/sync/store.ts';
import type { DeviceSession } from '../../src/pod/session.ts';
import type { TestParty } from './pods.ts';

/**
 * A signing device on a test pod: its own Ed25519 key, made here as `npm start` makes one for a new device
 * profile; the replica publishes it with the WebID before its first op leaves the outbox.
 */
export function signingReplica(
  party: Pick<TestParty, 'webId' | 'podRoot'>,
  session: DeviceSession,
  device: string,
  now?: () => number,
): { replica: Replica; key: DeviceKey } {
  const key = generateDeviceKey();
  const identity = { webId: party.webId, podRoot: party.podRoot, device };
  const replica = new Replica({ store: new MemoryDeviceStore(), fetch: session.fetch, identity, signer: opSigner(key), ...(now ? { now } : {}) });
  return { replica, key };
}
