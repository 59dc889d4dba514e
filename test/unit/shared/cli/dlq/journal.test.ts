import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultJournalPath, RedriveJournal } from '../../../../../shared/cli/dlq/journal.ts';
import { RedriveJournalError } from '../../../../../shared/cli/errors.ts';

const scope = { source: 'http://127.0.0.1:1/123/ingest-dlq', destination: 'http://127.0.0.1:1/123/ingest' };
let dir: string;
let n = 0;
const path = () => join(dir, `journal-${++n}.jsonl`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pipeline-dlq-journal-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('RedriveJournal', () => {
  it('gives a rerun the state each message was left in by a killed run', () => {
    // Prepare: a run that is never closed (killed).
    const file = path();
    const killed = RedriveJournal.open(file, scope);
    killed.hold([
      { messageId: 'a', receiptHandle: 'rh-a' },
      { messageId: 'b' },
      { messageId: 'c' },
      { messageId: 'd' },
    ]);
    killed.intend([{ messageId: 'b', receiptHandle: 'rh-b' }, { messageId: 'c' }, { messageId: 'd' }]);
    killed.sent(['c', 'd']);
    killed.settled(['d']);
    // Act: the lock holder's pid is alive (this process), so the test releases it as a dead process would.
    return rm(`${file}.lock`).then(() => {
      const rerun = RedriveJournal.open(file, scope);
      // Assess
      expect(rerun.get('a')).toMatchObject({ state: 'held', receiptHandle: 'rh-a' });
      expect(rerun.get('b')).toMatchObject({ state: 'intent', receiptHandle: 'rh-b' });
      expect(rerun.get('c')).toMatchObject({ state: 'sent' });
      expect(rerun.get('d')).toBeUndefined();
      rerun.close();
    });
  });

  it('ignores a torn last line: the step it announced never ran', async () => {
    const file = path();
    const journal = RedriveJournal.open(file, scope);
    journal.intend([{ messageId: 'a' }]);
    journal.close();
    await rm(`${file}.lock`, { force: true });
    await appendFile(file, '{"t":"sent","id":"a","at":1');
    const rerun = RedriveJournal.open(file, scope);
    expect(rerun.get('a')?.state).toBe('intent');
    rerun.close();
  });

  it('removes the file when nothing is pending, and keeps it otherwise', () => {
    const done = path();
    const a = RedriveJournal.open(done, scope);
    a.intend([{ messageId: 'x' }]);
    a.sent(['x']);
    a.settled(['x']);
    a.close();
    expect(existsSync(done)).toBe(false);

    const pending = path();
    const b = RedriveJournal.open(pending, scope);
    b.intend([{ messageId: 'y' }]);
    b.sent(['y']);
    b.close();
    expect(existsSync(pending)).toBe(true);
    expect(existsSync(`${pending}.lock`)).toBe(false);
  });

  it('refuses a journal of another redrive', async () => {
    const file = path();
    RedriveJournal.open(file, scope).close();
    const other = RedriveJournal.open(file, scope);
    other.intend([{ messageId: 'z' }]);
    other.close();
    expect(() =>
      RedriveJournal.open(file, { ...scope, destination: 'http://127.0.0.1:1/123/other' }),
    ).toThrow(expect.objectContaining({ code: 'JOURNAL_MISMATCH', exitCode: 2 }));
  });

  it('refuses a journal a live process holds, and takes over the lock of a dead one', async () => {
    const file = path();
    const holder = RedriveJournal.open(file, scope);
    expect(() => RedriveJournal.open(file, scope)).toThrow(RedriveJournalError);
    expect(() => RedriveJournal.open(file, scope)).toThrow(`process ${process.pid} is redriving with it`);
    holder.close();
    // A pid no process has (beyond the kernel's pid_max).
    await writeFile(`${file}.lock`, '99999999\n');
    RedriveJournal.open(file, scope).close();
  });

  it('refuses a corrupt line, naming it', async () => {
    const file = path();
    const journal = RedriveJournal.open(file, scope);
    journal.intend([{ messageId: 'a' }]);
    journal.close();
    await writeFile(
      file,
      `${(await readFile(file, 'utf8')).trim()}\nnot json\n{"t":"sent","id":"a","at":1}\n`,
    );
    expect(() => RedriveJournal.open(file, scope)).toThrow(/line 3: not a journal record/);
  });

  it('lives under .local/dlq-redrive, one file per pair of queues', () => {
    const a = defaultJournalPath('/work', scope);
    expect(a).toMatch(/^\/work\/\.local\/dlq-redrive\/ingest-dlq-[0-9a-f]{10}\.jsonl$/);
    expect(defaultJournalPath('/work', { ...scope, destination: 'http://127.0.0.1:1/123/x' })).not.toBe(a);
  });
});
