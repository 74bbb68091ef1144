// The public face of control/scheduler/: what other folders use. Import from the folder, not its files.

export { nextFire } from "./job-plan";
export { previewJob } from "./job-preview";
export { Scheduler } from "./scheduler";
