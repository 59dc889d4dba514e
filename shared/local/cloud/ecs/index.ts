export { type EcsScaleChange, type LocalEcs, type LocalEcsOptions, startLocalEcs } from './endpoint.ts';
export {
  type EcsServiceSpec,
  type EcsTask,
  type EcsTaskHandle,
  type EcsTaskLaunch,
  type EcsTaskLauncher,
  type EcsTaskProtectionState,
  type EcsTaskProtectionUpdate,
  InvalidDesiredCountError,
  InvalidTaskProtectionError,
  LocalEcsError,
  LocalEcsService,
  type LocalEcsServiceOptions,
  LocalEcsServiceStoppedError,
  UnknownTaskError,
} from './service.ts';
