import type { Scope } from "./token";

// Results of the control-api methods the dashboard (/ui) reads beside the Dkron API: who the caller
// is, the overview figures, recent runs per job, and the live tail of a running execution.

/** The caller's own token, as `tokens.self` answers (no secret). */
export interface SelfJson {
  name: string;
  scopes: Scope[];
  /** Jobs the token is limited to ("" = all). */
  prefix: string;
  /** False when the node runs with --insecure-no-auth (every caller is admin). */
  auth: boolean;
}

/** Executions started in one hour of the last day. */
export interface HourCountJson {
  /** Start of the hour, RFC3339 UTC. */
  at: string;
  success: number;
  failed: number;
  /** Running, missed and the other states. */
  other: number;
}

/** A failed (or lost) execution of the last day. */
export interface FailureJson {
  job: string;
  id: string;
  state: string;
  node: string;
  finished_at: string;
  exit_code: number | null;
}

/** The dashboard's overview, computed by the control node (cached for a few seconds). */
export interface OverviewJson {
  /** When the figures were computed, RFC3339. */
  at: string;
  jobs: {
    total: number;
    disabled: number;
    /** Job counts by Dkron status ("" is `untriggered`). */
    by_status: Record<"success" | "failed" | "partially_failed" | "untriggered", number>;
  };
  running: number;
  failures_24h: number;
  recent_failures: FailureJson[];
  /** The last 24 hours, oldest first. */
  per_hour: HourCountJson[];
  /**
   * Scheduled fires per minute over the next 24 hours from `from` (1,440 counts; enabled jobs; a
   * job's starts_at/expires_at window is not applied beyond its next fire).
   */
  heatmap: { from: string; minutes: number[]; approximate: boolean };
}

/** One recent run of a job, for the list's sparkline. */
export interface RecentRunJson {
  /** Duration in ms (null while running or when it never ran). */
  ms: number | null;
  state: string;
  /** Started at, epoch ms. */
  at: number;
}

/** The live output of an execution from an offset: what arrived since the client's last event. */
export interface TailJson {
  /** Offset (characters since the run began) just past `text`: the client's next `from`. */
  offset: number;
  text: string;
  /** Characters between `from` and `text` no longer kept (the live tail is bounded). */
  skipped: number;
  /** False once the result is committed; `state` and `output` are then the final ones. */
  running: boolean;
  state: string;
  /** The kept output, only once finished. */
  output?: string;
}

/** One delivery a hook accepted (kept for the replay window). */
export interface DeliveryRecordJson {
  delivery: string;
  at: string;
}
