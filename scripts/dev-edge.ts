/**
 * `npm run dev:edge`: the Worker (edge/worker.ts, wrangler.toml) in `wrangler dev` on 127.0.0.1, in
 * front of a control node you run yourself (`npm start`). It makes no calls off this machine: no
 * metrics, no cf.json download, no update check. CONTROL_TOKEN, when set, reaches wrangler through a
 * 0600 env file in a fresh temp dir outside the repo, removed on exit; never on a command line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HELP = `Usage: npm run dev:edge -- [--port N] [--control-url URL]

Runs the Worker (edge/worker.ts) in wrangler dev (workerd) on http://127.0.0.1:<port>, in front of a
control node, with no calls off this machine.

  --port N             port of the Worker (env DEV_EDGE_PORT; default 8787)
  --control-url URL    any control node (env CONTROL_URL; default http://127.0.0.1:8080)
  --help               this text

Environment:
  CONTROL_TOKEN        the control node's --control-token (or --cluster-secret), the Worker's
                       service secret; when unset, wrangler reads it from .dev.vars, if any
  EDGE_NAME            X-Whom of the Worker (default "edge")

API calls through the Worker need a token as on the node itself:
  curl -H "Authorization: Bearer $(cat data/admin-token)" http://127.0.0.1:8787/v1/jobs`;

/** A mistake in how the script was called: one line and exit 1, no stack. */
class UsageError extends Error {}

/** What the script runs with, from its flags and environment. */
export interface DevEdgeOptions {
  port: number;
  controlUrl: string;
  controlToken?: string;
  edgeName?: string;
}

/** Resolves flags and environment into options; undefined for --help. Pure. */
export function resolveOptions(argv: string[], env: NodeJS.ProcessEnv): DevEdgeOptions | undefined {
  let values: { port?: string; "control-url"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        "control-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (see --help)`);
  }
  if (values.help) return undefined;
  const portText = values.port ?? env.DEV_EDGE_PORT ?? "8787";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(`--port: "${portText}" is not a port (1-65535)`);
  const controlUrl = values["control-url"] ?? env.CONTROL_URL ?? "http://127.0.0.1:8080";
  if (!/^https?:\/\/[^/]/.test(controlUrl) || !URL.canParse(controlUrl))
    throw new UsageError(`--control-url: "${controlUrl}" is not an http(s) URL of a control node`);
  const controlToken = env.CONTROL_TOKEN || undefined;
  // The env file is one KEY='value' line, so the secret cannot hold a quote or a line break.
  if (controlToken !== undefined && /['\r\n]/.test(controlToken))
    throw new UsageError("CONTROL_TOKEN: cannot contain a quote or a line break");
  return {
    port,
    controlUrl,
    ...(controlToken !== undefined && { controlToken }),
    ...(env.EDGE_NAME && { edgeName: env.EDGE_NAME }),
  };
}

/** wrangler's arguments: `dev` on 127.0.0.1, the vars, and the env file holding the secret. Pure. */
export function wranglerArgs(o: DevEdgeOptions, envFile?: string): string[] {
  return [
    "dev",
    "--config",
    fileURLToPath(new URL("../wrangler.toml", import.meta.url)),
    "--ip",
    "127.0.0.1",
    "--port",
    String(o.port),
    "--show-interactive-dev-session=false",
    "--var",
    `CONTROL_URL:${o.controlUrl}`,
    ...(o.edgeName ? ["--var", `EDGE_NAME:${o.edgeName}`] : []),
    ...(envFile ? ["--env-file", envFile] : []),
  ];
}

/** The environment wrangler runs with: nothing it does may leave the machine. */
function wranglerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { CONTROL_TOKEN: _secret, ...rest } = env;
  return {
    ...rest,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // The banner is where wrangler checks the registry for a newer version.
    WRANGLER_HIDE_BANNER: "true",
  };
}

/** Polls the Worker's /health until it answers or wrangler exits; false when wrangler exited. */
async function untilReady(url: string, child: ChildProcess, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
      .then(async (r) => {
        await r.text();
        return r.ok;
      })
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Worker did not answer ${url}/health within ${deadlineMs / 1000} s`);
}

/** One line on whether the Worker reaches control with an accepted secret. */
async function controlStatus(url: string, o: DevEdgeOptions): Promise<string> {
  const r = await fetch(`${url}/v1/`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  if (!r) return "the Worker did not answer /v1/";
  const body = (await r.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (r.status === 503 && body?.error?.code === "UNAVAILABLE")
    return `control at ${o.controlUrl} is NOT reachable yet (start a node: npm start)`;
  if (r.status === 401 && body?.error?.message?.includes("service secret"))
    return `control at ${o.controlUrl} refused the Worker's secret: set CONTROL_TOKEN to the node's --control-token (or --cluster-secret)`;
  return `control at ${o.controlUrl} reachable`;
}

async function main(): Promise<number> {
  let o: DevEdgeOptions | undefined;
  try {
    o = resolveOptions(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`dev:edge: ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (!o) {
    console.log(HELP);
    return 0;
  }

  let secretDir: string | undefined;
  let envFile: string | undefined;
  if (o.controlToken !== undefined) {
    secretDir = mkdtempSync(join(tmpdir(), "dkron-dev-edge-"));
    envFile = join(secretDir, "secrets.env");
    writeFileSync(envFile, `CONTROL_TOKEN='${o.controlToken}'\n`, { mode: 0o600 });
  }
  const removeSecret = () => {
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  };

  const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
  // Its own process group: wrangler and the workerd it starts go down together.
  const child = spawn(process.execPath, [wrangler, ...wranglerArgs(o, envFile)], {
    env: wranglerEnv(process.env),
    stdio: ["ignore", "inherit", "inherit"],
    detached: true,
  });
  const exited = new Promise<number>((r) => child.once("exit", (code, sig) => r(code ?? (sig ? 1 : 0))));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    killGroup("SIGTERM");
    // wrangler gets a moment to stop workerd; the whole group goes regardless.
    setTimeout(() => killGroup("SIGKILL"), 3000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  process.on("exit", () => {
    killGroup("SIGKILL");
    removeSecret();
  });

  const url = `http://127.0.0.1:${o.port}`;
  try {
    if (await untilReady(url, child, 60_000)) {
      const status = await controlStatus(url, o);
      console.log(
        `\ndev:edge: Worker ready at ${url}/v1 (wrangler pid ${child.pid}); ${status}; CONTROL_TOKEN ${o.controlToken ? "set" : "not set"}. Ctrl-C stops it.\n`,
      );
    }
  } catch (e) {
    console.error(`dev:edge: ${(e as Error).message}`);
    stop();
  }
  const code = await exited;
  killGroup("SIGKILL");
  removeSecret();
  return stopping ? 0 : code;
}

process.exitCode = await main();
