// The public face of control/scheduler/: what other folders use. Import from the folder, not its files.

export { type FireSource, fireGroupKey, fireHeatmap } from "./fire-heatmap";
export { nextFire } from "./job-plan";
export { previewJob } from "./job-preview";
export { Scheduler } from "./scheduler";
