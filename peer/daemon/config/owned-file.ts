import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DamselflyError } from '../../../core/errors.ts';

/**
 * A runtime configuration file the config helpers write for the user, once and undoably: a
 * file that was there before is copied, once, to `<path>.damselfly-backup` (a name containerd,
 * the registries.conf.d loader (`.conf` only) and dockerd all ignore) and put back on remove;
 * a file damselfly did not write is never deleted. Running a write twice changes nothing.
 *
 * `render` is what damselfly wants at `path` given the file it replaced (absent: none);
 * `isOurs` tells whether the file now at `path` is damselfly's, given that original.
 */
export interface OwnedFile {
  path: string;
  render(original: string | undefined): string;
  isOurs(current: string, original: string | undefined): boolean;
  /** Remove the parent directory too when it is left empty (containerd's per-registry dirs). */
  dropEmptyParent?: boolean;
}

export type Step =
  | { kind: 'create'; path: string; content: string }
  | { kind: 'replace'; path: string; content: string; backup: string }
  | { kind: 'update'; path: string; content: string }
  | { kind: 'unchanged'; path: string }
  | { kind: 'restore'; path: string; backup: string }
  | { kind: 'delete'; path: string }
  | { kind: 'foreign'; path: string; backup?: string }
  | { kind: 'absent'; path: string };

export const backupPath = (path: string) => `${path}.damselfly-backup`;

/** What writing `file` would do; reads only. A foreign file over a kept backup is refused. */
export async function planWrite(file: OwnedFile): Promise<Step> {
  const { path } = file;
  const backup = backupPath(path);
  const [current, original] = await Promise.all([readIfThere(path), readIfThere(backup)]);
  // Absent with a backup kept: our file was deleted by hand; the backup still holds the original.
  if (current === undefined) return { kind: 'create', path, content: file.render(original) };
  if (file.isOurs(current, original)) {
    const content = file.render(original);
    return content === current ? { kind: 'unchanged', path } : { kind: 'update', path, content };
  }
  if (original !== undefined) {
    // Someone replaced our file after an earlier --write: which of the two is "the original"
    // is theirs to say, and overwriting the backup would lose one for good.
    throw new DamselflyError(
      'DF_ERR_RUNTIME_CONFIG_CONFLICT',
      `${path} is not the file damselfly wrote, and ${backup} holds what was there before an earlier --write: move one of them away, then run again`,
    );
  }
  return { kind: 'replace', path, content: file.render(current), backup };
}

/** What removing `file` would do; reads only. */
export async function planRemove(file: OwnedFile): Promise<Step> {
  const { path } = file;
  const backup = backupPath(path);
  const [current, original] = await Promise.all([readIfThere(path), readIfThere(backup)]);
  if (current !== undefined && !file.isOurs(current, original)) return { kind: 'foreign', path, backup: original === undefined ? undefined : backup };
  if (original !== undefined) return { kind: 'restore', path, backup };
  return current === undefined ? { kind: 'absent', path } : { kind: 'delete', path };
}

/** Carries a step out. New content lands by rename, so a reader never sees half a file. */
export async function applyStep(step: Step, file: OwnedFile): Promise<void> {
  const { path } = step;
  await io(path, async () => {
    switch (step.kind) {
      case 'create':
        await mkdir(dirname(path), { recursive: true });
        return replaceContent(path, step.content, 0o644);
      case 'replace': {
        const mode = (await stat(path)).mode & 0o7777;
        // COPYFILE_EXCL: a backup is made once and never overwritten (planWrite refused that case).
        await copyFile(path, step.backup, constants.COPYFILE_EXCL);
        return replaceContent(path, step.content, mode);
      }
      case 'update':
        return replaceContent(path, step.content, (await stat(path)).mode & 0o7777);
      case 'restore':
        return rename(step.backup, path);
      case 'delete':
        await unlink(path);
        if (file.dropEmptyParent) await rmdir(dirname(path)).catch(() => undefined); // not empty (or gone): it stays, as it should
        return;
      case 'unchanged':
      case 'foreign':
      case 'absent':
        return;
      default:
        step satisfies never;
    }
  });
}

async function replaceContent(path: string, content: string, mode: number): Promise<void> {
  const tmp = `${path}.damselfly-tmp-${process.pid}`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

async function readIfThere(path: string): Promise<string | undefined> {
  return io(path, async () => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  });
}

/** File-system failures as one clear line naming the path (EACCES is the usual one: not root). */
async function io<T>(path: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (e instanceof DamselflyError || typeof err.code !== 'string') throw e;
    const why = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied (run it as root, or choose another directory)' : `${err.code} (${err.message})`;
    throw new DamselflyError('DF_ERR_RUNTIME_CONFIG_IO', `${err.path ?? path}: ${why}`, { cause: e });
  }
}
