import { describe, expect, it } from 'vitest';
import { endpointEnv, startEmbeddedAws } from '../../../../../shared/local/aws/embedded.ts';
import { localEnv } from '../../../../../shared/local/aws/local-env.ts';

const endpoints = { region: 'eu-west-1', dynamodb: 'http://127.0.0.1:1001', sqs: 'http://127.0.0.1:1002' };

describe('endpointEnv', () => {
  it('points both services at the emulators with dummy credentials', () => {
    // Prepare
    const env = localEnv({ AWS_REGION: 'us-east-2', AWS_ACCESS_KEY_ID: 'real' });
    // Act
    const vars = endpointEnv(endpoints, env);
    // Assess
    expect(vars).toEqual({
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1001',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1002',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });

  it("keeps the caller's credentials and region when AWS_ENDPOINT_URL is set", () => {
    // Prepare
    const env = localEnv({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_REGION: 'us-east-2',
      AWS_PROFILE: 'ls',
    });
    // Act
    const vars = endpointEnv(endpoints, env);
    // Assess
    expect(vars).toEqual({
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1001',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1002',
    });
  });

  it('fills in region and credentials that an AWS_ENDPOINT_URL caller left out', () => {
    // Prepare
    const env = localEnv({ AWS_ENDPOINT_URL: 'http://localhost:4566' });
    // Act
    const vars = endpointEnv(endpoints, env);
    // Assess
    expect(vars).toMatchObject({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'local' });
  });
});

describe('startEmbeddedAws with AWS_ENDPOINT_URL', () => {
  it('starts nothing and sends both services to that endpoint', async () => {
    // Prepare
    const env = localEnv({ AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_DEFAULT_REGION: 'ap-south-1' });
    // Act
    const aws = await startEmbeddedAws({ env });
    await aws.stop();
    // Assess
    expect(aws.started).toBe(false);
    expect(aws.endpoints).toEqual({
      region: 'ap-south-1',
      dynamodb: 'http://localhost:4566',
      sqs: 'http://localhost:4566',
    });
  });
});
