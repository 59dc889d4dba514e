import { mkdir, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { endpointEnv, startEmbeddedAws } from '../../shared/local/aws/embedded.ts';
import { writeCharts } from './charts.ts';
import type { BenchContext } from './context.ts';

/** Every suite, in the order `npm run bench` runs them. */
const SUITES = [
  'write-path',
  'throttling',
  'producer',
  'snapshots',
  'gpu-worker',
  'tracing',
  'simulator',
] as const;

const program = new Command('bench')
  .description('Runs benchmark suites on the embedded AWS stack and writes test/bench/results/<suite>.json')
  .argument('[suites...]', `suites to run (${SUITES.join(', ')}); all when none`)
  .option('--quick', 'smaller workloads, for a smoke run', false)
  .action(async (names: string[], options: { quick: boolean }) => {
    const unknown = names.filter((n) => !(SUITES as readonly string[]).includes(n));
    if (unknown.length > 0)
      program.error(`unknown suite: ${unknown.join(', ')} (known: ${SUITES.join(', ')})`);
    const selected = names.length > 0 ? names : [...SUITES];
    const log = (line: string) => process.stdout.write(`${line}\n`);
    // SQS in a process of its own, like a remote service: CPU-bound clients are not slowed by it.
    await using aws = await startEmbeddedAws({ log, sqs: 'child-process' });
    Object.assign(process.env, endpointEnv(aws.endpoints), {
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    });
    const ctx: BenchContext = { endpoints: aws.endpoints, log, quick: options.quick };
    await mkdir('test/bench/results', { recursive: true });
    for (const name of selected) {
      log(`\n== ${name} ==`);
      const suite = (await import(`./${name}.ts`)) as {
        run(ctx: BenchContext): Promise<Record<string, unknown>>;
      };
      const result = await suite.run(ctx);
      const file = `test/bench/results/${name}.json`;
      const record = { suite: name, at: new Date().toISOString(), ...result };
      await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
      log(`wrote ${file}`);
      // The JSON is kept either way; a chart that cannot be drawn fails the run, not the suites after it.
      try {
        for (const svg of await writeCharts(name, record)) log(`wrote ${svg}`);
      } catch (error) {
        log(`charts of ${name} not rendered: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
  });

await program.parseAsync();
