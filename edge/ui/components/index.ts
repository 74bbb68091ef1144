// The public face of edge/ui/components/: pieces the pages share.

export { Heatmap, heatLevel } from "./heatmap";
export { HourChart } from "./hour-chart";
export { KeyValues, NextRuns } from "./next-runs";
export { SchedulePreview } from "./preview";
export { Sparkline } from "./sparkline";
