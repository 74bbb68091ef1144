// The public face of shared/schedule/: what other folders use. Import from the folder, not its files.

export { parseAtInstant } from "./at";
export { nextCronInstant } from "./cron";
export { applyNameHash, compileFields, nameHash } from "./cron-fields";
export { scheduleError } from "./errors";
export { nextEveryInstant, parseEveryInterval } from "./every";
