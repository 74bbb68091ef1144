// The public face of control/jobs/: what other folders use. Import from the folder, not its files.

export { scheduleOf, validateJob } from "./validate-job";
