// The public face of edge/ for the composition root (control/main.ts): the app and its JSON 404.
// Workers load edge/worker.ts instead.

export { createApp } from "./app";
export { notFound } from "./middleware";
