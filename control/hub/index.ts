// The public face of control/hub/: what other folders use. Import from the folder, not its files.

export type { RunnerEvents } from "./runner-events";
export { REVOKED_CLOSE_CODE, RUNNER_WS_PATH, RunnerHub } from "./runner-hub";
export { type ConnectedRunner, type RunnerSession, RunnerSessions, type Runners } from "./runner-sessions";
