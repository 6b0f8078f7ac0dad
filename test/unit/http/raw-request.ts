import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a socket: the request target goes out exactly
 * as given (percent-encoding, doubled slashes, absolute-form `http://host/…`), which fetch and
 * undici would normalise away.
 */
export function rawRequest(port: number, o: { method: string; target: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  const body = o.body ?? '';
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...(o.headers ?? {}) };
  if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const head = [`${o.method} ${o.target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => resolve(parse(Buffer.concat(chunks).toString('utf8'))));
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

function parse(text: string): RawResponse {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: rest.join('\r\n\r\n') };
}
