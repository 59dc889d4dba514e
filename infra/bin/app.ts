import { buildApp } from '../app.ts';

// Composition root for `cdk synth` / `cdk deploy` (cdk.json runs it with tsx). The CLI sets
// CDK_OUTDIR, so the app synthesises itself when the process exits.
buildApp();
