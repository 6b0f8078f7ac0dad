import { execFile } from 'node:child_process';

/**
 * Runs one of the container tools to completion and returns its stdout. A failure carries the
 * command line and the tool's stderr, since that is where skopeo, ctr and htpasswd say why.
 * Secrets given in `redact` (a password on ctr's command line) are masked in that message.
 */
export function runTool(file: string, args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; redact?: string[] } = {}): Promise<string> {
  const mask = (text: string) => (o.redact ?? []).filter(Boolean).reduce((t, secret) => t.split(secret).join('***'), text);
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env: { ...process.env, ...o.env }, timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(mask(`${[file, ...args].join(' ')} failed (${err.code ?? err.signal ?? err.message}): ${stderr.trim() || stdout.trim()}`)));
      else resolve(stdout);
    });
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}
