// The public face of edge/ui/: the dashboard's routes.

export { uiRoutes } from "./routes";
