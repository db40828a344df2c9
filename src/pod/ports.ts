/**
 * Port checks for the pod servers and `npm start`, apart from server.ts so that they answer without loading the
 * Community Solid Server (seconds of start-up).
 */
import net from 'node:net';
import { FedinvoiceError } from '../model/errors.ts';

/** The pod server could not start (port in use, bad data folder, configuration error). */
export class PodServerError extends FedinvoiceError {
  override readonly name: string = 'PodServerError';
}

/** Another program already listens on the port a server was to use. */
export class PortInUseError extends PodServerError {
  override readonly name: string = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(`Port ${port} is already in use on ${host}: stop the program that holds it, or choose another port.`, options);
  }
}

/**
 * Resolves when `port` can be bound on `host` right now (it binds and closes at once), rejects with PortInUseError
 * when another program holds it. A check, not a reservation: the server's own listen still handles a late loser.
 */
export function assertPortFree(port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, host, { cause: error }) : new PodServerError(`Cannot listen on ${host}:${port}: ${error.message}`, { cause: error })),
    );
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolvePromise()));
  });
}
