/**
 * What the daemon prints at start when it intercepts HTTPS: the client must trust its CA, or
 * every hijacked host fails TLS (which is the point: nobody is intercepted without consent).
 * `proxy` is the daemon's proxy address as clients reach it, host:port.
 */
export function trustCaInstructions(certPath: string, proxy: string): string {
  return [
    `The daemon intercepts HTTPS for the hosts in proxy.hijackHTTPS with its CA: ${certPath}`,
    'Clients of those hosts must trust it:',
    `  system-wide (Debian, Ubuntu): sudo cp ${certPath} /usr/local/share/ca-certificates/damselfly-proxy-ca.crt && sudo update-ca-certificates`,
    `  system-wide (Fedora, RHEL):   sudo cp ${certPath} /etc/pki/ca-trust/source/anchors/damselfly-proxy-ca.crt && sudo update-ca-trust`,
    `  Node.js:                      NODE_EXTRA_CA_CERTS=${certPath} node …`,
    `  curl:                         curl --cacert ${certPath} -x http://${proxy} https://HOST/PATH`,
    `  other clients:                HTTPS_PROXY=http://${proxy} with ${certPath} as a trusted CA`,
    'Hosts not listed are tunnelled untouched and keep their own certificates.',
  ].join('\n');
}
