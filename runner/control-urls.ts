import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** Path runners connect to on a control node (control/hub's RUNNER_WS_PATH). */
export const RUNNER_WS_PATH = "/_runner/ws";

/**
 * The file in the data dir listing every control node the leader's last welcome named (mode 0600):
 * `dkron-runner start` reconnects through them when the saved control URL's node is down.
 */
export const CONTROLS_FILE = "controls.json";

/** What CONTROLS_FILE holds. */
export const SavedControlsSchema = z.object({
  version: z.literal(1),
  /** http(s):// base URLs of the control nodes, as the leader's welcome said. */
  controls: z.array(z.string().url()).max(64),
});

/** ws(s):// URL of the runner endpoint for an http(s):// control URL. */
export function runnerWsUrl(controlUrl: string): string {
  const u = new URL(controlUrl);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = RUNNER_WS_PATH;
  u.search = "";
  return u.toString();
}

/**
 * The order a runner tries control nodes in: the saved control URL first, then the others the
 * leader named, each once (compared by origin, so `http://h:1` and `http://h:1/` are one node).
 */
export function controlOrder(saved: string, learned: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const u of [saved, ...learned]) {
    let origin: string;
    try {
      origin = new URL(u).origin;
    } catch {
      continue;
    }
    if (seen.has(origin)) continue;
    seen.add(origin);
    out.push(origin);
  }
  return out;
}

/**
 * The control URLs saved in a data dir; [] when there is no file yet (a runner joined before any
 * welcome) or it cannot be read, since the saved control URL still works without it.
 */
export function readControls(dataDir: string): string[] {
  try {
    const r = SavedControlsSchema.safeParse(JSON.parse(readFileSync(join(dataDir, CONTROLS_FILE), "utf8")));
    return r.success ? r.data.controls : [];
  } catch {
    return [];
  }
}

/** The text of CONTROLS_FILE for `controls`. */
export function controlsFileText(controls: readonly string[]): string {
  return `${JSON.stringify({ version: 1, controls }, null, 2)}\n`;
}
