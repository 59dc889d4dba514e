import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cruiser = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const config = join(root, '.dependency-cruiser.cjs');

/** A miniature tree with the project's folder names: one file per rule it breaks, and two that break none. */
const TREE: Record<string, string> = {
  'infra/stack.ts': 'export const stack = 1;',
  'functions/f/core.ts': "import { stack } from '../../infra/stack.ts';\nexport const f = stack;",
  'functions/g/internals.ts':
    "import { send } from '../../shared/sqs/batch-sender.ts';\nexport const g = send;",
  'functions/g/entry.ts': "import { send } from '../../shared/sqs/index.ts';\nexport const ok = send;",
  'shared/sqs/batch-sender.ts': 'export const send = 1;',
  'shared/sqs/index.ts': "export { send } from './batch-sender.ts';",
  'shared/contract/message.ts': "import { f } from '../../functions/f/core.ts';\nexport const m = f;",
  'shared/snapshots/reader.ts': "import { send } from '../sqs/batch-sender.ts';\nexport const r = send;",
  'shared/pipeline/routing.ts': "import { poll } from '../local/poller.ts';\nexport const route = poll;",
  'shared/local/poller.ts': "import { f } from '../../functions/f/core.ts';\nexport const poll = f;",
  'shared/core/a.ts': "import { b } from './b.ts';\nexport const a = () => b;",
  'shared/core/b.ts': "import { a } from './a.ts';\nexport const b = () => a;",
  'shared/core/c.ts': "import { route } from '../pipeline/routing.ts';\nexport const c = route;",
};

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

describe('the import rules (.dependency-cruiser.cjs, run by npm run check)', () => {
  let dir: string;
  let violations: Violation[];

  beforeAll(async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'import-rules-'));
    for (const [path, source] of Object.entries(TREE)) {
      await mkdir(join(dir, dirname(path)), { recursive: true });
      await writeFile(join(dir, path), `${source}\n`);
    }
    // Act
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cruiser, '--config', config, '--output-type', 'json', 'shared', 'functions', 'infra'],
      { cwd: dir },
    ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
    violations = JSON.parse(stdout).summary.violations;
  }, 60_000);

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['shared-not-to-functions-or-infra', 'shared/contract/message.ts', 'functions/f/core.ts'],
    ['functions-not-to-infra', 'functions/f/core.ts', 'infra/stack.ts'],
    ['library-internals-from-functions-or-infra', 'functions/g/internals.ts', 'shared/sqs/batch-sender.ts'],
    ['library-internals-from-shared', 'shared/snapshots/reader.ts', 'shared/sqs/batch-sender.ts'],
    ['product-not-to-local-tooling', 'shared/pipeline/routing.ts', 'shared/local/poller.ts'],
    ['core-depends-on-nothing-in-shared', 'shared/core/c.ts', 'shared/pipeline/routing.ts'],
    ['no-cycles', 'shared/core/a.ts', 'shared/core/b.ts'],
  ])('%s fails %s → %s', (rule, from, to) => {
    // Assess
    expect(violations).toContainEqual(
      expect.objectContaining({ rule: expect.objectContaining({ name: rule }), from, to }),
    );
  });

  it('lets local tooling import anything and everyone use a library through its index.ts', () => {
    // Assess
    const from = violations.map((v) => v.from);
    expect(from).not.toContain('functions/g/entry.ts');
    expect(violations.filter((v) => v.from === 'shared/local/poller.ts')).toEqual([]);
  });
});
