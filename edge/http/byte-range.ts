/**
 * One `Range: bytes=…` of RFC 9110 §14 against a representation of `size` bytes. Returns the
 * inclusive range to send, 'unsatisfiable' (→ 416), or undefined when the header should be
 * ignored and the whole piece sent (absent, malformed, another unit, or several ranges: a
 * server may answer those with a 200, and peers never ask for them). The CDN's piece route and
 * every peer's uploader use it, so a downloader sees one behaviour from every source.
 */
export interface ByteRange {
  start: number;
  end: number;
}

export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
