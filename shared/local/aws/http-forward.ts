import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http';

/** An upstream's whole answer, as a local proxy hands it on (or changes it first). */
export interface ForwardedAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Sends `req` (method, path, headers) with `body` to `target` over `agent` and buffers the answer.
 * `host` and `content-length` are set for the target and the body as sent (a proxy may have
 * rewritten it); the emulators behind these proxies do not check signatures.
 */
export function forwardRequest(
  agent: Agent,
  target: URL,
  req: IncomingMessage,
  body: Buffer,
): Promise<ForwardedAnswer> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}
