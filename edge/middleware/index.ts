// The public face of edge/middleware/: what other folders use. Import from the folder, not its files.

export { bodyLimit, DEFAULT_MAX_BODY_BYTES, readBodyText } from "./body-limit";
export { type ClientAddress, caller } from "./caller";
export { apiCors } from "./cors";
export { notFound, onError } from "./errors";
export { pretty } from "./pretty";
export { resolveNodeName, whom } from "./whom";
