import { z } from 'zod';
import { FailureReason, groupLegacyVerified, verifiedFrom } from '../events/task-events.ts';
import { HostPort, Sha256Digest, text } from './fields.ts';

/**
 * The wire contract between peers (dfget, the daemon) and the supernode, under /api/v1.
 * Both sides import these schemas; the supernode validates every body with them and the
 * OpenAPI document is generated from them.
 */

const id = text(200).min(1).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only');

/**
 * Origin headers: at most MAX_HEADERS, MAX_HEADER_BYTES of names and values together, each
 * value at most 8 KiB. Names are HTTP tokens and values what Node's HTTP client would send
 * (visible ASCII, space, tab, obs-text): a NUL, CR or LF is refused here, not by the origin
 * client later. docs/security.md, "Bounds".
 */
export const MAX_HEADERS = 64;
export const MAX_HEADER_BYTES = 16 * 1024;
const HeaderName = z.string().min(1).max(256).regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
const HeaderValue = z.string().max(8192).regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'a header value holds no control characters (NUL, CR, LF) and no characters above U+00FF');
const badName = 'a header name is an HTTP token (RFC 9110) of 1 to 256 characters';
const OriginHeaders = z
  .record(HeaderName, HeaderValue, { error: (issue) => (issue.code === 'invalid_key' ? badName : undefined) })
  .superRefine((headers, ctx) => {
    const names = Object.keys(headers);
    if (names.length > MAX_HEADERS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_HEADERS} headers (got ${names.length})` });
    const bytes = names.reduce((sum, name) => sum + name.length + (headers[name]?.length ?? 0), 0);
    if (bytes > MAX_HEADER_BYTES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_HEADER_BYTES} bytes of header names and values (got ${bytes})` });
  })
  // The count as JSON Schema says it (the byte total has no keyword).
  .meta({ maxProperties: MAX_HEADERS });

/** POST /api/v1/tasks — register (or find) the task for a URL. Idempotent. */
export const RegisterTaskRequest = z.object({
  url: text(4096).url(),
  /** Headers for the origin (e.g. Authorization). Used for fetching only, never persisted. */
  headers: OriginHeaders.default({}),
  digest: Sha256Digest.optional(),
  /** Query parameter names removed from the URL before computing the task id. */
  filter: z.array(text(200).min(1)).max(50).default([]),
  identifier: text(500).optional(),
  range: z.string().regex(/^bytes=\d+-\d*$/).optional(),
  /**
   * The task id comes from `digest` alone (required with it), not the URL: the daemon's mirror
   * registers each image layer so, and the same layer from any registry is one swarm. The CDN
   * fetches from the URL of the latest registration; every peer checks the digest.
   */
  contentAddressed: z.boolean().optional(),
}).refine((r) => !r.contentAddressed || r.digest !== undefined, { message: 'contentAddressed needs a digest', path: ['contentAddressed'] });
export type RegisterTaskRequest = z.infer<typeof RegisterTaskRequest>;

export const TaskView = z.object({
  taskId: z.string(),
  status: z.enum(['absent', 'created', 'seeding', 'seeded', 'failed', 'evicted']),
  url: z.string(),
  contentLength: z.number().nullable(),
  pieceSize: z.number().nullable(),
  pieceCount: z.number().nullable(),
  /** Pieces seeded at least once (digest known). */
  seededCount: z.number(),
  /** Of those, the pieces the owner's CDN holds now (fewer than seededCount after a takeover). */
  cdnHeldCount: z.number().optional(),
  peers: z.number(),
  version: z.number(),
  failure: z.string().nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

/** POST /api/v1/tasks/:taskId/peers — a peer joins the task's swarm. */
export const JoinRequest = z.object({
  peerId: id,
  hostId: id,
  /**
   * host:port of the peer's uploader. By default the supernode keeps only the port and puts
   * the address the join came from in front of it (`--peer-address`, docs/security.md).
   */
  address: HostPort.max(300),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

/** The supernode's request body limit (supernode/http/server.ts): every body below must fit it. */
export const MAX_REQUEST_BODY_BYTES = 1 << 20;
/**
 * The most `ok` and the most `failed` entries of one round. At its largest (200-character
 * sources, 16-digit numbers) a round is then about 540 KB of JSON, inside MAX_REQUEST_BODY_BYTES
 * (test/unit/peer/round-limits.test.ts); a peer with more to report (a re-join re-reports
 * every piece it holds, up to MAX_PIECE_COUNT) sends the rest in the next rounds.
 */
export const MAX_ROUND_REPORTS = 1024;

/**
 * POST /api/v1/tasks/:taskId/peers/:peerId/rounds — the one round trip: report what finished
 * (verified pieces and failures) and receive the next assignments. Answered only after the
 * events it caused are durably committed.
 */
const VerifiedPieces = z.array(z.object({ piece: z.number().int().nonnegative(), source: id, ms: z.number().int().nonnegative() })).max(MAX_ROUND_REPORTS).default([]);
const FailedPieces = z.array(z.object({ piece: z.number().int().nonnegative(), source: id, reason: FailureReason })).max(MAX_ROUND_REPORTS).default([]);

export const RoundRequest = z.object({
  ok: VerifiedPieces,
  failed: FailedPieces,
  /** How many new assignments the peer can take now (its free download slots). */
  want: z.number().int().min(0).max(256).default(4),
  /**
   * If nothing can be assigned now, hold the answer up to this long until the task changes
   * (long poll): an idle peer learns of a newly seeded piece at once instead of at its next poll.
   */
  holdMs: z.number().int().min(0).max(5000).default(0),
});
export type RoundRequest = z.infer<typeof RoundRequest>;

export const Assignment = z.object({
  piece: z.number().int().nonnegative(),
  /** Peer id of the source, or "cdn". */
  source: z.string(),
  /** host:port to GET the piece from. */
  address: z.string(),
  offset: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  digest: z.string(),
});
export type Assignment = z.infer<typeof Assignment>;

export const RoundResponse = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('assign'),
    assignments: z.array(Assignment),
    contentLength: z.number(),
    pieceSize: z.number(),
    pieceCount: z.number(),
  }),
  z.object({ action: z.literal('wait'), retryAfterMs: z.number().int().nonnegative() }),
  z.object({ action: z.literal('done') }),
  z.object({ action: z.literal('failed'), reason: z.string() }),
]);
export type RoundResponse = z.infer<typeof RoundResponse>;

/** The most piece digests one sync answer carries; a peer that knows fewer asks again. */
export const MAX_SYNC_DIGESTS = 4096;

/**
 * POST /api/v1/tasks/:taskId/peers/:peerId/syncs — the sync protocol (docs/decisions.md,
 * "Parents, not pieces"): the peer reports what it verified since its last sync, in one batch,
 * and learns whom to fetch from; which pieces is its own choice. Its first sync joins it, the
 * one that reports its last piece makes it succeeded. Answered only after the events it caused
 * are durably committed.
 */
/**
 * A sync's verified pieces, grouped by source (core/events' VerifiedFrom): at most
 * MAX_ROUND_REPORTS pieces in all. A list of `{piece, source, ms}` entries (what peers sent
 * before the grouping, and what a round still sends) is read as groups, so an older peer keeps
 * working during an upgrade.
 */
const VerifiedGroups = z
  .preprocess(
    groupLegacyVerified,
    z
      .array(verifiedFrom(id))
      .max(MAX_ROUND_REPORTS)
      .superRefine((groups, ctx) => {
        const total = groups.reduce((n, g) => n + g.pieces.length, 0);
        if (total > MAX_ROUND_REPORTS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ROUND_REPORTS} verified pieces in one sync (got ${total})` });
      }),
  )
  .default([]);

export const SyncRequest = z.object({
  ok: VerifiedGroups,
  failed: FailedPieces,
  /** Parents that had nothing this peer lacks for a while: replaced if others can be found. */
  replace: z.array(id).max(64).default([]),
  /** How many piece digests, from piece 0 on, the peer knows: the answer carries the next ones. */
  knownDigests: z.number().int().nonnegative().default(0),
  /** A peer's first sync: join the swarm first (the fields of JoinRequest; idempotent). */
  join: z.object({ hostId: id, address: HostPort.max(300) }).optional(),
  /**
   * If the answer would bring no digest while pieces are still unseeded, hold it up to this long
   * until the task changes (long poll): a peer that knows every seeded piece learns of the next
   * one at once, not at its next sync.
   */
  holdMs: z.number().int().min(0).max(5000).default(0),
});
export type SyncRequest = z.infer<typeof SyncRequest>;

export const Parent = z.object({
  /** A peer id, or "cdn". */
  peerId: z.string(),
  /** host:port of its piece uploader. */
  address: z.string(),
});
export type Parent = z.infer<typeof Parent>;

export const SyncResponse = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('sync'),
    /** Whom to fetch from: the peer's parents, then its children (the link works both ways). */
    parents: z.array(Parent),
    /** sha256 of pieces knownDigests, knownDigests + 1, … up to the first not seeded yet (at most MAX_SYNC_DIGESTS). */
    digests: z.array(z.string()),
    contentLength: z.number(),
    pieceSize: z.number(),
    pieceCount: z.number(),
    /** When to sync next at the latest (sooner when every piece is verified or a parent is of no use). */
    syncAfterMs: z.number().int().nonnegative(),
    /**
     * The pieces a peer of the task holds on average, as of this answer: a peer ahead of it takes
     * no more downloads at once than it uploads, leaving its sources' other slots to those behind.
     */
    swarmAverage: z.number().nonnegative(),
  }),
  z.object({ action: z.literal('wait'), retryAfterMs: z.number().int().nonnegative() }),
  z.object({ action: z.literal('done') }),
  z.object({ action: z.literal('failed'), reason: z.string() }),
]);
export type SyncResponse = z.infer<typeof SyncResponse>;

/** DELETE /api/v1/tasks/:taskId/peers/:peerId — body says whether the peer finished. */
export const LeaveRequest = z.object({
  outcome: z.enum(['succeeded', 'failed', 'left']),
  reason: text(500).optional(),
});
export type LeaveRequest = z.infer<typeof LeaveRequest>;

/** Piece download path on every uploader (peers and the CDN alike): GET /pieces/:taskId/:piece */
export function piecePath(taskId: string, piece: number): string {
  return `/pieces/${taskId}/${piece}`;
}
