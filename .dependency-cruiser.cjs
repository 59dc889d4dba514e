/**
 * Import rules, checked by `npm run check` (dependency-cruiser). Dependencies point down:
 * functions → shared libraries → shared/core; infra → shared (settings, schemas); local tooling and
 * the CLI (shared/local, shared/cli) → anything; nothing but tests and entry points → local tooling.
 * Libraries (contract, write-batcher, snapshots, sqs, tracing, simulator) are used through their index.ts only.
 */
const LIBRARIES = '(contract|write-batcher|snapshots|sqs|tracing|simulator)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'An import cycle couples modules that should be layered; break it with a smaller shared module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-not-to-functions-or-infra',
      comment:
        'Libraries and app glue in shared/ serve functions/ and infra/, never the reverse (local tooling and the CLI may).',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/(local|cli)/' },
      to: { path: '^(functions|infra)/' },
    },
    {
      name: 'functions-not-to-infra',
      comment: 'A function runs without CDK: it reads its settings from its environment.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^infra/' },
    },
    {
      name: 'library-internals-from-shared',
      comment: 'Use a library through its entry point, shared/<library>/index.ts.',
      severity: 'error',
      from: { path: '^shared/([^/]+)/' },
      to: { path: `^shared/${LIBRARIES}/`, pathNot: ['^shared/$1/', '/index\\.ts$'] },
    },
    {
      name: 'library-internals-from-functions-or-infra',
      comment: 'Use a library through its entry point, shared/<library>/index.ts.',
      severity: 'error',
      from: { path: '^(functions|infra)/' },
      to: { path: `^shared/${LIBRARIES}/`, pathNot: '/index\\.ts$' },
    },
    {
      name: 'product-not-to-local-tooling',
      comment: 'Product code never depends on the local emulation or the CLI.',
      severity: 'error',
      from: { path: '^(functions|infra)/|^shared/(?!local/|cli/)' },
      to: { path: '^shared/(local|cli)/' },
    },
    {
      name: 'core-depends-on-nothing-in-shared',
      comment: 'shared/core is the bottom layer.',
      severity: 'error',
      from: { path: '^shared/core/' },
      to: { path: '^shared/(?!core/)' },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API yet; swc parses the sources (type-only imports included).
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // The dev entry points that hold `await using` are left out: dependency-cruiser 18.7's swc
    // visitor stops at a UsingDeclaration. They are local tooling at the top of the graph (rules
    // that apply to them allow anything), so only their own outgoing edges go unchecked.
    exclude: {
      path: [
        '^(node_modules|cdk\\.out|dist)/',
        '^shared/local/dev/(start|demo/inference|demo/snapshots)\\.ts$',
        '^test/bench/run\\.ts$',
      ],
    },
  },
};
