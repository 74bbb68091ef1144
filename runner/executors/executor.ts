/**
 * The contract every executor meets. An executor runs one execution and reports what happened as data:
 * a failed job resolves with `success: false` and an error text; execute() rejects only on a bug.
 */

/** Who this execution is, so a job can dedupe its own side effects across retries and leader changes. */
export interface ExecutionIdentity {
  jobName: string;
  executionId: string;
  /** RFC3339 UTC, the slot time (the cron fire time), not the moment the process started. */
  scheduledAt: string;
}

/** One execution handed to an executor. */
export interface ExecuteRequest {
  identity: ExecutionIdentity;
  /** Dkron's executor_config: every value a string. */
  config: Record<string, string>;
  /**
   * The body of the webhook delivery that started this run (and its retries): shell jobs find it in
   * a file named by DKRON_WEBHOOK_PAYLOAD, http jobs send it as the request body.
   */
  payload?: string;
  /** Abort = cancel: the shell executor kills the process group, the http executor aborts the request. */
  signal: AbortSignal;
  /**
   * Called as output arrives, in order, in chunks of at most MAX_OUTPUT_CHUNK bytes that never split a
   * UTF-8 character. Should not throw; a throw is swallowed so a broken consumer cannot break the job.
   */
  onOutput(chunk: string): void;
  /**
   * Called once when the run really starts: the process was spawned (shell), the request is being
   * sent (http). Not called for a run that fails or is cancelled before that. A throw is swallowed.
   */
  onStarted?(): void;
}

/** What an execution produced. */
export interface ExecuteResult {
  success: boolean;
  /** The last OUTPUT_TAIL_BYTES bytes (UTF-8) of the output. */
  output: string;
  /** Why the execution failed; absent on success. */
  error?: string;
  /** Process exit code (shell), when the process exited by itself. */
  exitCode?: number;
  /** HTTP response status (http), when a response arrived. */
  statusCode?: number;
  /** True when the output was longer than the tail kept. */
  truncated?: boolean;
}

/** Runs executions of one kind (`shell`, `http`). */
export interface Executor {
  readonly name: string;
  execute(req: ExecuteRequest): Promise<ExecuteResult>;
  /** Throws AppError VALIDATION (details.field `executor_config.<key>`) for config that can never run. */
  validate?(config: Record<string, string>): void;
  /**
   * Releases what the executor keeps between runs (the http executor's keep-alive connections),
   * once the runs under way have ended; the runner calls it when it stops. A later run reopens them.
   */
  close?(): Promise<void>;
}

/** Bytes of output an execution keeps (Dkron's 256 000-byte circular buffer). */
export const OUTPUT_TAIL_BYTES = 256_000;

/** Tells the runner the run started (`onStarted`); a consumer that throws cannot break the job. */
export function notifyStarted(req: ExecuteRequest): void {
  try {
    req.onStarted?.();
  } catch {
    // Swallowed, as a throwing onOutput is.
  }
}
