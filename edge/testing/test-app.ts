import type { Logger } from "../../shared";
import { createApp } from "../app";
import { FakeControl } from "./fake-control";

/** A fresh fake control and an app over it, named "edge-test" so X-Whom is checkable. */
export function testApp(opts: { logger?: Logger; version?: string; maxBodyBytes?: number } = {}) {
  const control = new FakeControl();
  const app = createApp({ control, nodeName: () => "edge-test", ...opts });
  return { control, app };
}

/** JSON request init for app.request(). */
export function jsonInit(method: string, body: unknown): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}
