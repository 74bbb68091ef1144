import type { CATCHUP_POLICIES } from "../../shared";

/** latest: run the newest missed slot once if within the deadline; none: record all missed; all: run all. */
export type CatchupPolicy = (typeof CATCHUP_POLICIES)[number];
