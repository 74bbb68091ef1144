import { parseGoDuration } from "../time";
import { scheduleError } from "./errors";

const SECOND = 1000;

/**
 * The interval of `@every <Go duration>` in ms, as robfig's `Every`: under a second rounds up to one
 * second, otherwise sub-second parts are dropped, so slots stay on whole seconds like cron slots.
 */
export function parseEveryInterval(arg: string): number {
  const ms = arg === "" ? null : parseGoDuration(arg);
  if (ms === null || !Number.isFinite(ms)) throw scheduleError("@every needs a duration like 1m30s");
  return ms < SECOND ? SECOND : Math.floor(ms / SECOND) * SECOND;
}

/**
 * First slot `anchor + k * interval` (k any integer) strictly after `afterMs`. The anchor is floored to
 * the second; the scheduler passes the instant the schedule was set, so cadence survives restarts and
 * leader changes (where Dkron restarts the phase).
 */
export function nextEveryInstant(intervalMs: number, anchorMs: number, afterMs: number): number {
  const anchor = Math.floor(anchorMs / SECOND) * SECOND;
  const k = Math.floor((afterMs - anchor) / intervalMs) + 1;
  return anchor + k * intervalMs;
}
