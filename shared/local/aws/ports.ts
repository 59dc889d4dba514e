import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago: listen on port 0, read the port, close. Another process can
 * take it before the caller binds it, so callers retry on EADDRINUSE.
 *
 * @param host where to probe; leave it unset to probe every interface (DynamoDB Local binds them all).
 */
export async function freePort(host?: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('listening on port 0 gave no port');
  return address.port;
}

/**
 * Whether `port` can be bound right now (on every interface when `host` is unset). Like `freePort`,
 * the answer can be stale by the time the caller binds it.
 */
export async function isPortFree(port: number, host?: string): Promise<boolean> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}
