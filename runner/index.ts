// The public face of runner/: what other folders use. Import from the folder, not its files.

export { RunnerAgent } from "./agent";
