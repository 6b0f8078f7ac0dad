import type { OwnedFile } from './owned-file.ts';

const MARK = '# Written by damselfly daemon config';

/**
 * A text file in a format with `#` comments (TOML: containerd's hosts.toml, registries.conf),
 * marked as damselfly's by its first line, so a later run knows it whatever flags wrote it.
 * The file replaced, if any, plays no part in the content.
 */
export function markedFile(path: string, body: string, helper: string, options: { dropEmptyParent?: boolean } = {}): OwnedFile {
  const content = `${MARK}: \`damselfly daemon config ${helper} --remove\` deletes it and restores what it replaced.\n${body}`;
  return {
    path,
    render: () => content,
    isOurs: (current) => current.startsWith(MARK),
    dropEmptyParent: options.dropEmptyParent,
  };
}
