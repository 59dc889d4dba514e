import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudAssemblyError } from './errors.ts';

/** A CloudFormation template as `cdk synth` writes it. */
export interface Template {
  readonly Parameters?: Record<string, { readonly Type: string; readonly Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<
    string,
    { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }
  >;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
}

/** One stack of the cloud assembly. */
export interface StackArtifact {
  readonly name: string;
  readonly template: Template;
  /** Stacks this one depends on (cross-stack references), by name. */
  readonly dependencies: readonly string[];
}

/** The stacks of a cloud assembly (`cdk.out`), dependencies first, and where their assets lie. */
export interface CloudAssembly {
  readonly dir: string;
  readonly stacks: readonly StackArtifact[];
}

interface Manifest {
  readonly artifacts?: Record<
    string,
    {
      readonly type: string;
      readonly dependencies?: readonly string[];
      readonly properties?: { readonly templateFile?: string };
    }
  >;
}

/**
 * Reads the stacks of the cloud assembly in `dir` from its `manifest.json`, ordered so that every
 * stack comes after the stacks it depends on (the order `cdk deploy --all` deploys them in).
 *
 * @throws CloudAssemblyError when the manifest or a template is missing or unreadable.
 */
export function readCloudAssembly(dir: string): CloudAssembly {
  const manifestPath = join(dir, 'manifest.json');
  const manifest = readJson<Manifest>(manifestPath);
  const artifacts = Object.entries(manifest.artifacts ?? {}).filter(
    ([, artifact]) => artifact.type === 'aws:cloudformation:stack',
  );
  const names = new Set(artifacts.map(([name]) => name));
  const stacks = new Map<string, StackArtifact>();
  for (const [name, artifact] of artifacts) {
    const templateFile = artifact.properties?.templateFile;
    if (templateFile === undefined)
      throw new CloudAssemblyError(manifestPath, `stack ${name} names no template`);
    stacks.set(name, {
      name,
      template: readJson<Template>(join(dir, templateFile)),
      dependencies: (artifact.dependencies ?? []).filter((dependency) => names.has(dependency)),
    });
  }
  return { dir: resolve(dir), stacks: dependencyOrder(stacks, manifestPath) };
}

function dependencyOrder(stacks: ReadonlyMap<string, StackArtifact>, manifestPath: string): StackArtifact[] {
  const ordered: StackArtifact[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (stack: StackArtifact) => {
    if (state.get(stack.name) === 'done') return;
    if (state.get(stack.name) === 'visiting')
      throw new CloudAssemblyError(manifestPath, `stack ${stack.name} depends on itself`);
    state.set(stack.name, 'visiting');
    for (const dependency of stack.dependencies) visit(stacks.get(dependency)!);
    state.set(stack.name, 'done');
    ordered.push(stack);
  };
  for (const stack of stacks.values()) visit(stack);
  return ordered;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (cause) {
    throw new CloudAssemblyError(path, 'cannot be read as JSON; run `npx cdk synth`', { cause });
  }
}

/** What `cdk synth` reads: a change to any of these makes an assembly stale (cdk.json's `watch`). */
const SOURCE_DIRS = ['infra', 'functions', 'shared'] as const;
const SOURCE_FILES = ['cdk.json', 'package-lock.json'] as const;

/**
 * Whether the assembly in `dir` is older than a source it was built from (or missing). Local
 * tooling and tests under `shared/local` and `test/` do not count: they are not synthesized.
 * `sources` (paths relative to `projectRoot`, files or folders) count too: another app's own files.
 */
export function isAssemblyStale(projectRoot: string, dir: string, sources: readonly string[] = []): boolean {
  const manifest = join(dir, 'manifest.json');
  if (!existsSync(manifest)) return true;
  const builtAt = statSync(manifest).mtimeMs;
  const newer = (path: string): boolean => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs > builtAt;
    return readdirSync(path).some((entry) => entry !== 'local' && newer(join(path, entry)));
  };
  return [...SOURCE_DIRS, ...SOURCE_FILES, ...sources].some((entry) => {
    const path = join(projectRoot, entry);
    return existsSync(path) && newer(path);
  });
}

export interface SynthOptions {
  readonly projectRoot: string;
  /** Where the assembly goes. @default `<projectRoot>/cdk.out` */
  readonly outdir?: string;
  /**
   * Another app to synthesize: its entry file, relative to `projectRoot`, run with tsx as cdk.json
   * runs `infra/bin/app.ts` (`cdk synth --app`); cdk.json's context still applies. Give it an
   * `outdir` of its own. @default cdk.json's `app`
   */
  readonly app?: string;
  /**
   * Files or folders (relative to `projectRoot`) besides infra/, functions/ and shared/ whose
   * changes make the assembly stale, e.g. the folder of `app`. @default none
   */
  readonly sources?: readonly string[];
  /** Synthesize even when the assembly is up to date. @default false */
  readonly force?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Synthesizes the app with the CDK CLI, exactly as `cdk deploy` does, unless the assembly is newer
 * than every source; resolves with the assembly.
 *
 * @throws CloudAssemblyError when `cdk synth` fails (its output is in the message).
 */
export async function synthesize(options: SynthOptions): Promise<CloudAssembly> {
  const outdir = options.outdir ?? join(options.projectRoot, 'cdk.out');
  if (options.force || isAssemblyStale(options.projectRoot, outdir, options.sources)) {
    options.log?.(`cdk synth → ${outdir}`);
    await runSynth(options.projectRoot, outdir, options.app);
  }
  return readCloudAssembly(outdir);
}

function runSynth(projectRoot: string, outdir: string, app?: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const cdk = join(projectRoot, 'node_modules', 'aws-cdk', 'bin', 'cdk');
    const appArgs = app === undefined ? [] : ['--app', `npx tsx ${app}`];
    const child = spawn(process.execPath, [cdk, 'synth', '--quiet', ...appArgs, '--output', outdir], {
      cwd: projectRoot,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_192);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (cause) =>
      reject(new CloudAssemblyError(outdir, 'cdk synth did not start', { cause })),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new CloudAssemblyError(outdir, `cdk synth exited with code ${code}:\n${output}`)),
    );
  });
}
