export {
  IdentityConflictError,
  LocalIamError,
  MalformedRequestError,
  UnknownRoleError,
  UnsupportedOperationError,
} from './errors.ts';
export {
  type Caller,
  type Decision,
  type DecisionCount,
  type Denial,
  type DenialKind,
  type Grant,
  grantsOf,
  IamEvaluator,
  type IamEvaluatorOptions,
  type RoleDecisions,
  type RoleUnusedGrants,
} from './evaluator.ts';
export { type IamGateway, type IamGatewayOptions, rewriteQueueUrls, startIamGateway } from './gateway.ts';
export {
  credentialsFor,
  isRoleAccessKey,
  LOCAL_SESSION_NAME,
  type LocalCredentials,
  LocalIdentities,
  type LocalRole,
  type OneOrMany,
  type PolicyDocument,
  type PolicyStatement,
  ROLE_ACCESS_KEY_PREFIX,
  sessionArn,
} from './identities.ts';
export { formatIamReport } from './report.ts';
export {
  type AuthorizationCheck,
  type AuthorizationRequest,
  authorizationRequests,
  type IamService,
  type RequestContext,
  type RequestHeaders,
  requestOperation,
  supportedOperations,
} from './requests.ts';
