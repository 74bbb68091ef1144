// The public face of control/dispatch/: what other folders use. Import from the folder, not its files.

export { Dispatcher, type RunExtra } from "./dispatcher";
