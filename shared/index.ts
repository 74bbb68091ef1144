// The public face of shared/: what other folders use. Import from the folder, not its files.

export { type AuditEntryJson, AuditListParams } from "./audit";
export { bearerToken } from "./bearer";
export {
  ANONYMOUS_CALLER,
  CALLER_CLIENT_HEADER,
  CALLER_INTERNAL_HEADER,
  CALLER_TOKEN_HEADER,
  type Caller,
} from "./caller";
export { type Clock, systemClock, type TimerHandle } from "./clock";
export { safeEqual } from "./constant-time";
export {
  type ControlInput,
  type ControlMethod,
  ControlParams,
  type ControlParamsOf,
  type ControlResults,
} from "./control-api";
export { type ControlClient, createControlClient, type FetchLike } from "./control-client";
export type {
  DeliveryRecordJson,
  FailureJson,
  HourCountJson,
  OverviewJson,
  RecentRunJson,
  SelfJson,
  TailJson,
} from "./dashboard";
export { droppedOutputNote } from "./dropped-output";
export { AppError, httpStatusOf, isAppError, toAppError } from "./errors";
export {
  type Execution,
  type ExecutionJson,
  type ExecutionState,
  executionToJson,
  isNotRun,
  type NotRunState,
  type Trigger,
} from "./execution";
export {
  type HttpConfig,
  parseHttpConfig,
  parseShellConfig,
  type ShellConfig,
  validateExecutorConfig,
} from "./executor-config";
export {
  DEFAULT_PREVIEW_RUNS,
  dstReason,
  type ExpressionPreviewInput,
  MAX_PREVIEW_RUNS,
  previewExpression,
  readPreviewCount,
  ruleWords,
  type SchedulePreviewJson,
} from "./expression-preview";
export { DEFAULT_LEADER_HOPS, followLeader, leaderOf } from "./follow-leader";
export {
  type GossipKeyJson,
  type GossipKeyring,
  GossipKeyringSchema,
  GossipKeySchema,
  KeyRequestSchema,
  type KeyringListJson,
  type KeyringOp,
  keyringAfter,
  MAX_GOSSIP_KEYS,
} from "./gossip-keyring";
export { isLoopbackHost, nodeUrl, splitHostPort } from "./host-port";
export {
  CATCHUP_POLICIES,
  DkronJobInputSchema,
  EXECUTORS,
  type Job,
  type JobCounters,
  JobCountersSchema,
  JobInputSchema,
  type JobJson,
  type JobSpec,
  type JobStatus,
  jobToJson,
} from "./job";
export { type DriftJson, driftOf, type LatenessJson, latenessOf } from "./lateness";
export { createLogger, type Logger, silentLogger } from "./logger";
export { aliveMember, controlGossipSeeds, type Member, MemberStatus, type NodeStatus } from "./member";
export { forkRandom, type Random, seededRandom } from "./random";
export { readLimitedBytes, tooLarge } from "./request-body";
export {
  type CreatedJoinTokenJson,
  JOIN_TOKEN_PATTERN,
  type JoinTokenCreate,
  JoinTokenCreateSchema,
  type JoinTokenJson,
  mergeRunnerTags,
  parseJoinToken,
  parseRunnerCredential,
  RESERVED_RUNNER_TAGS,
  RUNNER_CREDENTIAL_PATTERN,
  RUNNER_NAME,
  RUNNER_TAG_LIMITS,
  type RunnerJoin,
  type RunnerJoinedJson,
  RunnerJoinSchema,
  type RunnerJson,
  RunnerTagsSchema,
} from "./runner-token";
export {
  DST_POLICIES,
  type DstPolicy,
  type DstRule,
  type DstSkip,
  isEmptySchedule,
  parseDstPolicy,
  parseSchedule,
  type Schedule,
  subSecondEvery,
  validateTimezone,
} from "./schedule";
export {
  describeDstSkip,
  type Preview,
  type PreviewEntry,
  type PreviewMark,
  previewSchedule,
} from "./schedule-preview";
export { type Candidate, parseTargetTags, qualifying, selectTargets } from "./tags";
export { durationMs, parseInstant } from "./time";
export {
  type CreatedTokenJson,
  formatToken,
  grants,
  parseToken,
  SCOPES,
  type Scope,
  TOKEN_LIMITS,
  type TokenCreate,
  TokenCreateSchema,
  type TokenJson,
} from "./token";
export { parseOrThrow } from "./validation";
export { webRandomBytes } from "./web-random";
export {
  type CreatedWebhookJson,
  type DeliveryHeaders,
  DeliveryHeadersSchema,
  type DeliveryJson,
  hookPath,
  MAX_DELIVERY_ID,
  signedText,
  WEBHOOK_DELIVERY_RETENTION_MS,
  WEBHOOK_HEADERS,
  WEBHOOK_PAYLOAD_ENV,
  WEBHOOK_TOLERANCE_MS,
  type WebhookCreate,
  WebhookCreateSchema,
  type WebhookJson,
} from "./webhook";
export {
  type Ack,
  type ControlMessage,
  decodeControlFrame,
  decodeRunnerFrame,
  encodeFrame,
  type Hello,
  MAX_OUTPUT_CHUNK,
  type Output,
  type Result,
  RUNNER_REJECTED_HEADER,
  type Run,
  type RunnerMessage,
  type Welcome,
  WIRE_VERSION,
} from "./wire";
