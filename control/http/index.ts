// The public face of control/http/: what other folders use. Import from the folder, not its files.

export { clusterRoutes } from "./cluster-routes";
export { createControlApp } from "./control-app";
export { ControlService } from "./control-service";
export { incomingBodyText, incomingClientAddress } from "./incoming-body";
export { createLocalControlClient } from "./local-control-client";
export { ControlServer } from "./server";
