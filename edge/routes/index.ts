// The public face of edge/routes/: what other folders use. Import from the folder, not its files.

export { clusterRoutes } from "./cluster";
export { executionRoutes } from "./executions";
export { jobRoutes } from "./jobs";
export { keyRoutes } from "./keys";
export { restoreRoutes } from "./restore";
export { runnerRoutes } from "./runners";
export { scheduleRoutes } from "./schedule";
export { tokenRoutes } from "./tokens";
export { webhookRoutes } from "./webhooks";
