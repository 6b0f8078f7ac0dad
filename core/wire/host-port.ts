/**
 * The parse behind the HostPort field (fields.ts): host:port as a client can dial it. Pure
 * string work, no DNS: whether the host exists is the dialer's business.
 */
export function isHostPort(value: string): boolean {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (colon < 1 || !/^[1-9]\d{0,4}$/.test(port) || Number(port) > 65535) return false;
  if (host.startsWith('[')) return host.endsWith(']') && isIPv6(host.slice(1, -1));
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return host.length <= 253 && host.split('.').every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
}

function isIPv4(value: string): boolean {
  const octets = value.split('.');
  return octets.length === 4 && octets.every((o) => /^(?:0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255);
}

/** RFC 4291 text forms: eight groups of 1-4 hex digits, at most one `::` for a run of zero groups, an optional IPv4 tail; no zone. */
function isIPv6(value: string): boolean {
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groupsOf = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const last = halves.length === 2 ? tail : head;
  let groups = head.length + tail.length;
  // An IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
  if (last.length > 0 && isIPv4(last[last.length - 1]!)) {
    last.pop();
    groups += 1;
  }
  if (![...head, ...tail].every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? groups <= 7 : groups === 8;
}
