import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The import boundaries of eslint.config.js fire: each fixture is linted as if it were a file
 * at `filePath` (nothing is written), with the project's own config.
 */
const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries (eslint.config.js)', () => {
  it.each([
    ['supernode/cdn/fixture.ts', "import { startUploader } from '../../peer/uploader/index.ts';", /never import each other/],
    ['peer/dfget/fixture.ts', "import { Cdn } from '../../supernode/cdn/index.ts';", /never import each other/],
    ['supernode/fixture.ts', "import { runSwarm } from '../bench/swarm/swarm-run.ts';", /never imports the benchmarks or the tests/],
    ['peer/fixture.ts', "import { TOKEN } from '../test/e2e/swarm/swarm-fixture.ts';", /never imports the benchmarks or the tests/],
    ['edge/pieces/fixture.ts', "import { lyingSource } from '../../bench/harness/lying-source.ts';", /never imports the benchmarks or the tests/],
    ['edge/pieces/fixture.ts', "import type { CdnStore } from '../../supernode/cdn/cdn-store.ts';", /imports core\/ only/],
    ['core/task/fixture.ts', "import { createPieceServer } from '../../edge/pieces/index.ts';", /imports nothing outside core/],
    ['core/task/fixture.ts', "import type { Uploader } from '../../peer/uploader/index.ts';", /imports nothing outside core/],
    ['core/task/fixture.ts', "import { readFile } from 'node:fs/promises';", /core\/ is pure/],
  ])('%s may not say %s', async (filePath, code, message) => {
    const messages = await restrictedImports(filePath, `${code}\nexport const x = 1;\n`);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it.each([
    ['supernode/cdn/fixture.ts', "import { createPieceServer } from '../../edge/pieces/index.ts';"],
    ['peer/dfget/fixture.ts', "import { piecePath } from '../../core/wire/peer-api.ts';"],
    ['edge/http/fixture.ts', "import { ErrorCodes } from '../../core/errors.ts';"],
    ['bin/fixture.ts', "import { runSwarm } from '../bench/swarm/swarm-run.ts';"],
    ['bench/fixture.ts', "import { startUploader } from '../peer/uploader/index.ts';"],
  ])('%s may say %s', async (filePath, code) => {
    expect(await restrictedImports(filePath, `${code}\nexport const x = 1;\n`)).toEqual([]);
  });
});
