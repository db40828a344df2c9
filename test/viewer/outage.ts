/**
 * A pod outage in-process. CSS's `stop()` is graceful: it stops accepting connections but keeps serving the ones
 * that are open (a keep-alive HTTP connection, a notification WebSocket) and waits for them to close. A pod that
 * really goes away closes them all. `stopLikeAnOutage` calls `stop()` and closes every open connection of that
 * server until it has stopped.
 *
 * Call `recordListeningServers()` before the pods start: it notes each server that starts listening, by port.
 */
import type http from 'node:http';
import net from 'node:net';
import type { PodServer } from '../../src/pod/server.ts';

const servers = new Map<number, net.Server>();
let installed = false;

export function recordListeningServers(): void {
  if (installed) return;
  installed = true;
  const original = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]) {
    this.once('listening', () => {
      const address = this.address();
      if (address && typeof address === 'object') servers.set(address.port, this);
    });
    return original.apply(this, args);
  } as typeof net.Server.prototype.listen;
}

export async function stopLikeAnOutage(pod: PodServer): Promise<void> {
  const server = servers.get(Number(new URL(pod.baseUrl).port)) as http.Server | undefined;
  if (!server || typeof server.closeAllConnections !== 'function') throw new Error(`no HTTP server recorded for ${pod.baseUrl}: call recordListeningServers() before starting the pods`);
  let stopped = false;
  const stopping = pod.stop().finally(() => (stopped = true));
  while (!stopped) {
    server.closeAllConnections();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await stopping;
}
