// The public face of control/store/: what other folders use. Import from the folder, not its files.

export { auditStatements } from "./audit-statements";
export {
  executionsPerHour,
  type FiringJobRow,
  firingJobs,
  jobStatusCounts,
  recentFailures,
  recentRuns,
} from "./dashboard-queries";
export { openStateDb, type StateDb } from "./db";
export {
  failedExecutions,
  getExecution,
  groupExecutions,
  isExecutionSort,
  listExecutions,
  pageExecutions,
  runningExecutions,
} from "./execution-queries";
export { backfillJobIndex, INDEX_VERSION, indexJob, indexJobTimes, insertIndexedJob } from "./job-index";
export {
  countJobs,
  type DueSplit,
  fewestFirst,
  isJobSort,
  JOB_SORTS,
  type JobFilter,
  type JobPageQuery,
  type JobSort,
  overdueJobs,
  pageJobs,
  qMatches,
} from "./job-list-queries";
export { dependentsOf, getJobRow, getStoredJob, jobsWaking, listStoredJobs } from "./job-queries";
export { getGossipKeyring, setGossipKeyring } from "./keyring-queries";
export { jobDrift, jobLateness } from "./lateness-queries";
export { dropLegacyCommandLog, readLegacyCommandLog } from "./legacy-command-log";
export { isOwed, owedRuns } from "./owed-run-queries";
export { SqliteLogStore } from "./raft-log-store";
export { executionFromRow, type JobRow, type OwedRun, type StoredJob } from "./rows";
export {
  getJoinToken,
  getRunner,
  type JoinTokenRow,
  listJoinTokens,
  listRunners,
  type RunnerRow,
  runnerByCredential,
} from "./runner-queries";
export {
  audit,
  executions,
  gossipKeyring,
  jobMetadata,
  jobs,
  owedDependentRuns,
  peers,
  runnerJoinTokens,
  runners,
  tokens,
  webhookDeliveries,
  webhooks,
} from "./schema";
export { restoreStateSnapshot, takeStateSnapshot } from "./snapshot";
export { StateSnapshotWriter, type WrittenSnapshot } from "./snapshot-writer";
export { statements } from "./statements";
export { authBootstrapped, getToken, listTokens, markAuthBootstrapped, type TokenRow } from "./token-queries";
export {
  executionPayload,
  getWebhook,
  hookDeliveries,
  listWebhooks,
  type WebhookRow,
} from "./webhook-queries";
