import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { projectRoot } from '../../infra/constructs/pipeline-function.ts';

/**
 * The worker image installs ONNX Runtime's CUDA execution provider with onnxruntime-node's own
 * install script. These tests read the Dockerfile's install step and run the installed package's
 * flag parser and install metadata on it, so a value the script does not understand fails here
 * instead of silently falling back to the platform default at image build time.
 */

const require = createRequire(import.meta.url);
const scripts = join(projectRoot, 'node_modules/onnxruntime-node/script');
const { parseInstallFlag } = require(join(scripts, 'install-utils.js')) as {
  parseInstallFlag: () => unknown;
};
const metadata = require(join(scripts, 'install-metadata.js')) as {
  requirements: Record<string, string[]>;
  manifests: Record<string, Record<string, unknown>>;
};

const dockerfile = readFileSync(join(projectRoot, 'functions/gpu-worker/Dockerfile'), 'utf8');
const installStep = dockerfile
  .replaceAll('\\\n', ' ')
  .split('\n')
  .find((line) => line.startsWith('RUN ') && line.includes('onnxruntime-node/script/install.js'));

/** The `NAME=value` assignments the install step puts in the script's environment, and `env -u` removals. */
function installEnvironment(step: string): { set: Record<string, string>; unset: string[] } {
  const command = step.slice('RUN '.length).split('node node_modules/onnxruntime-node')[0] ?? '';
  const words = command.trim().split(/\s+/);
  const set: Record<string, string> = {};
  const unset: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === '-u') unset.push(words[++i] as string);
    else if (word.includes('=')) {
      const [name, value] = word.split('=') as [string, string];
      set[name] = value;
    }
  }
  return { set, unset };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('gpu-worker image: ONNX Runtime CUDA provider', () => {
  it('asks onnxruntime-node for its CUDA 12 manifest with a value its install script understands', () => {
    // Prepare
    expect(installStep).toBeDefined();
    const { set, unset } = installEnvironment(installStep as string);
    for (const name of ['ONNXRUNTIME_NODE_INSTALL', 'ONNXRUNTIME_NODE_INSTALL_CUDA'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('npm_config_onnxruntime_node_install', undefined);
    vi.stubEnv('npm_config_onnxruntime_node_install_cuda', undefined);
    for (const [name, value] of Object.entries(set)) vi.stubEnv(name, value);
    // Act
    const flag = parseInstallFlag();
    // Assess
    expect(unset).toContain('ONNXRUNTIME_NODE_INSTALL');
    expect(flag).toBe('cuda12');
    expect(metadata.requirements['linux/x64']).toContain('cuda12');
  });

  it('would not have understood ONNXRUNTIME_NODE_INSTALL=cuda12 (the script reads it as "not specified")', () => {
    // Prepare
    vi.stubEnv('ONNXRUNTIME_NODE_INSTALL_CUDA', undefined);
    vi.stubEnv('npm_config_onnxruntime_node_install_cuda', undefined);
    vi.stubEnv('ONNXRUNTIME_NODE_INSTALL', 'cuda12');
    // Act & Assess
    expect(parseInstallFlag()).toBeUndefined();
  });

  it('fails the image build unless the CUDA provider libraries the manifest installs are present', () => {
    // Prepare
    const files = Object.keys(metadata.manifests['linux/x64:cuda12'] ?? {}).map((f) => f.replace('./', ''));
    const checked = [...(installStep as string).matchAll(/test -f (\S+)/g)].map((m) => m[1]);
    // Assess
    for (const library of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) {
      expect(files).toContain(library);
      expect(checked).toContain(`node_modules/onnxruntime-node/bin/napi-v6/linux/x64/${library}`);
    }
  });
});
