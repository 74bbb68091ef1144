// The public face of shared/schedule/: what other folders use. Import from the folder, not its files.

export { parseAtInstant } from "./at";
export { type DstSkip, dstSkipsIn, nextCronInstant } from "./cron";
export { applyNameHash, compileFields, nameHash } from "./cron-fields";
export {
  DST_POLICIES,
  type DstPolicy,
  type DstRule,
  followsRealTime,
  parseDstPolicy,
  readDstPolicy,
  resolveDstRule,
} from "./dst";
export { scheduleError } from "./errors";
export { nextEveryInstant, parseEveryInterval } from "./every";
