import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/**
 * Runs cdk-nag's AWS Solutions and Serverless rule packs on every synth of `app`: an unacknowledged
 * finding fails the synth ("Validation failed"; details in cdk.out's policy validation report).
 * Acknowledge a finding on the narrowest construct with `Validations.of(scope).acknowledge({ id, reason })`.
 */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
}
