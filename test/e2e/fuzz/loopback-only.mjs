// Preloaded (node --import) into the supernode the fuzzer drives: the fuzzer registers tasks for
// any URL the schema allows, and the CDN would go and fetch them. This process may reach only
// loopback: a name other than localhost fails to resolve without a DNS query being sent, and a
// socket to any other address fails before it is opened. Test harness only, never the product.
import dns from 'node:dns';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const isLoopback = (address) => net.isIP(address) !== 0 && LOOPBACK.check(address.replace(/^::ffff:/i, ''), net.isIP(address.replace(/^::ffff:/i, '')) === 6 ? 'ipv6' : 'ipv4');
const refused = (what) => Object.assign(new Error(`loopback-only sandbox: ${what} is not loopback`), { code: 'ENOTFOUND' });

function lookup(hostname, options, callback) {
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'object' && options !== null ? options : {};
  const name = String(hostname).replace(/^\[|\]$/g, '');
  const address = name === 'localhost' ? '127.0.0.1' : isLoopback(name) ? name : undefined;
  process.nextTick(() => {
    if (address === undefined) return cb(refused(name));
    const family = net.isIP(address);
    return opts.all ? cb(null, [{ address, family }]) : cb(null, address, family);
  });
}

dns.lookup = lookup;
dns.promises.lookup = (hostname, options = {}) =>
  new Promise((resolve, reject) => lookup(hostname, { ...options, all: true }, (err, all) => (err ? reject(err) : resolve(options.all ? all : all[0]))));
syncBuiltinESMExports();

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() hands over its already normalised [options, cb].
  const [options, cb] = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
  if (options.path !== undefined) return connect.apply(this, args);
  const host = String(options.host ?? 'localhost').replace(/^\[|\]$/g, '');
  if (net.isIP(host) === 0) {
    // A name: resolved by the lookup above, whatever resolver the caller passed.
    return connect.call(this, { ...options, lookup }, ...(cb ? [cb] : []));
  }
  if (isLoopback(host)) return connect.apply(this, args);
  process.nextTick(() => this.destroy(refused(host)));
  return this;
};
