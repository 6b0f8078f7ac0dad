export { createHttpProxy, type HttpProxy, type HttpProxyOptions } from './http-proxy.ts';
export { ProxyConfig, parseProxyConfig, type ProxyRule, type HijackHost } from './proxy-config.ts';
export { loadProxyCa, type ProxyCa } from './proxy-ca.ts';
export { trustCaInstructions } from './trust-ca-instructions.ts';
