import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import type { AckLine } from '../invariants/acknowledged-reports.ts';

/** The part of undici's diagnostics-channel request the recorder reads. */
interface UndiciRequest {
  origin: string;
  method: string;
  path: string;
  body: unknown;
}

const ROUND_PATH = /^\/api\/v1\/tasks\/([0-9a-f]{64})\/peers\/([^/]+)\/rounds$/;

/**
 * Every round report a supernode acknowledged (answered 2xx, body complete), observed on
 * undici's diagnostics channels — the HTTP client's own instrumentation — so the download
 * engine carries no test hook for it. Only calls to `nodes` count (not, say, a test's own
 * forwarding proxy); only reports with something in them. Returns the function that stops it.
 */
export function recordAcknowledgedRounds(nodes: string[], onAck: (ack: Omit<AckLine, 'at'>) => void): () => void {
  const origins = new Set(nodes.map((n) => `http://${n}`));
  const statuses = new WeakMap<object, number>();
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
    if (origins.has(request.origin) && request.method === 'POST') statuses.set(request, response.statusCode);
  };
  const onComplete = (message: unknown) => {
    const { request } = message as { request: UndiciRequest };
    const status = statuses.get(request);
    const m = ROUND_PATH.exec(request.path);
    if (status === undefined || status < 200 || status >= 300 || !m || !Buffer.isBuffer(request.body)) return;
    // A round lists verified pieces one by one, a sync groups them by source.
    const report = JSON.parse(request.body.toString()) as { ok?: ({ piece: number; source: string } | { source: string; pieces: number[] })[]; failed?: { piece: number; source: string; reason: string }[] };
    const ok = (report.ok ?? []).flatMap((e) => ('pieces' in e ? e.pieces.map((piece) => ({ piece, source: e.source })) : [{ piece: e.piece, source: e.source }]));
    const failed = (report.failed ?? []).map(({ piece, source, reason }) => ({ piece, source, reason }));
    if (ok.length > 0 || failed.length > 0) onAck({ taskId: m[1]!, peerId: decodeURIComponent(m[2]!), ok, failed });
  };
  subscribe('undici:request:headers', onHeaders);
  subscribe('undici:request:trailers', onComplete);
  return () => {
    unsubscribe('undici:request:headers', onHeaders);
    unsubscribe('undici:request:trailers', onComplete);
  };
}

/**
 * An ack log writer: one JSON line per acknowledged report, written synchronously, so the line
 * is on disk before the peer goes on; the chaos checker (bench/invariants) then requires every
 * verified piece listed to be in the task's events. `at` (the peer's clock, ms) lets bench
 * failover see how long a peer went without an answer.
 */
export function ackLogWriter(path: string): (ack: Omit<AckLine, 'at'>) => void {
  return (ack) => appendFileSync(path, `${JSON.stringify({ ...ack, at: Date.now() })}\n`);
}
