// The public face of control/jobs/: what other folders use. Import from the folder, not its files.

export { type JobTimes, jobTimes } from "./job-times";
export { planRestore, type RestoreStep, restoreResult } from "./restore-plan";
export { type RestoredJob, scheduleOf, validateJob, validateRestoredJob } from "./validate-job";
