// The public face of edge/: what other folders use. Import from the folder, not its files.

export { createApp } from "./app";
