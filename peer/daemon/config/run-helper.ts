import { applyStep, planRemove, planWrite, type OwnedFile, type Step } from './owned-file.ts';

export type HelperMode = 'print' | 'write' | 'remove';

/**
 * One helper run over its files: every step is planned (read only) before any is carried out,
 * so a refusal on the third file leaves the first two untouched. Returns the report's text:
 * in print mode each path with the content it would get.
 */
export async function runHelper(files: OwnedFile[], mode: HelperMode): Promise<string> {
  const steps = await Promise.all(files.map((f) => (mode === 'remove' ? planRemove(f) : planWrite(f))));
  if (mode !== 'print') for (const [i, step] of steps.entries()) await applyStep(step, files[i]!);
  return steps.map((s) => describe(s, mode)).join('');
}

function describe(step: Step, mode: HelperMode): string {
  const would = mode === 'print';
  const v = (past: string, future: string) => (would ? `would ${future}` : past);
  const content = (text: string) => (would ? `${text}${text.endsWith('\n') ? '' : '\n'}\n` : '');
  switch (step.kind) {
    case 'create':
      return `${v('created', 'create')} ${step.path}\n${content(step.content)}`;
    case 'replace':
      return `${v('replaced', 'replace')} ${step.path} (the file there ${would ? 'would be' : 'is'} kept in ${step.backup})\n${content(step.content)}`;
    case 'update':
      return `${v('updated', 'update')} ${step.path}\n${content(step.content)}`;
    case 'unchanged':
      return `unchanged ${step.path}\n`;
    case 'restore':
      return `${v('restored', 'restore')} ${step.path} from ${step.backup}\n`;
    case 'delete':
      return `${v('removed', 'remove')} ${step.path}\n`;
    case 'foreign':
      return `left ${step.path} alone: damselfly did not write it${step.backup ? ` (${step.backup} is kept)` : ''}\n`;
    case 'absent':
      return `nothing to remove at ${step.path}\n`;
    default:
      return step satisfies never;
  }
}
