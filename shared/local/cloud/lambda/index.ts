export {
  FunctionCrashError,
  FunctionError,
  FunctionInitError,
  FunctionInvokeError,
  FunctionPoolStoppedError,
  FunctionTimeoutError,
} from './errors.ts';
export {
  type FunctionLogSource,
  FunctionPool,
  type FunctionPoolOptions,
  type FunctionPoolStats,
  type InvokeOptions,
} from './function-pool.ts';
export {
  type LambdaCredentials,
  type LambdaRuntimeEnvOptions,
  lambdaRuntimeEnv,
  mergeFunctionEnv,
  RESERVED_ENV_VARIABLES,
  reservedVariablesIn,
} from './runtime-env.ts';
export { poolHandler } from './sqs-handler.ts';
