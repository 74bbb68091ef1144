/**
 * Fire delay: from a slot's scheduled time to the moment the job's process is running, measured
 * through the whole embedded path (scheduler → commit → WebSocket → runner → spawn). Baseline in
 * the same run: a bare setTimeout-to-the-second then spawn of the same command, the floor any
 * scheduler on this machine pays. Run: node --import tsx bench/fire-delay.ts [seconds] [jobs]
 */
import { spawn } from "node:child_process";
import { startAgent } from "../test/helpers/agent-process";
import { tempDir } from "../test/helpers/tmp";
import { benchArgs } from "./args";
import { reportFigures } from "./report";
import { percentile, summary } from "./stats";

const args = benchArgs("Usage: node --import tsx bench/fire-delay.ts [seconds = 20] [jobs = 5]");
const seconds = args.int(0, "seconds", 20);
const jobs = args.int(1, "jobs", 5);
// The command prints the wall clock (ns) as soon as the shell runs it, and the slot it was for.
const COMMAND = 'echo "$(date +%s%N) $DKRON_SCHEDULED_AT"';

async function baseline(n: number, perSlot: number): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const slot = Math.ceil((Date.now() + 50) / 1000) * 1000;
    await new Promise((r) => setTimeout(r, slot - Date.now()));
    const outs = await Promise.all(
      Array.from(
        { length: perSlot },
        () =>
          new Promise<string>((resolve) => {
            let s = "";
            const p = spawn("/bin/sh", ["-c", COMMAND], {
              env: { ...process.env, DKRON_SCHEDULED_AT: new Date(slot).toISOString() },
            });
            p.stdout.on("data", (d) => {
              s += d;
            });
            p.on("close", () => resolve(s));
          }),
      ),
    );
    for (const out of outs) delays.push(Number(out.split(" ")[0]) / 1e6 - slot);
  }
  return delays;
}

async function main() {
  const dir = tempDir("dkron-bench-");
  const agent = await startAgent([
    "--bootstrap-expect",
    "1",
    "--data-dir",
    dir.path,
    "--node-name",
    "bench",
    "--log-level",
    "warn",
    // The bench measures scheduling, not tokens (the node checks them by default since the edge work).
    "--insecure-no-auth",
  ]);
  try {
    for (let j = 0; j < jobs; j++) {
      const r = await fetch(`${agent.url}/v1/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: `fire-${j}`,
          schedule: "@every 1s",
          executor: "shell",
          executor_config: { command: COMMAND, shell: "true" },
        }),
      });
      if (r.status !== 201) throw new Error(`create failed: ${r.status} ${await r.text()}`);
    }
    process.stderr.write(`measuring ${jobs} jobs @every 1s for ${seconds}s ...\n`);
    const base = baseline(seconds, jobs);
    await new Promise((r) => setTimeout(r, (seconds + 1) * 1000));
    const delays: number[] = [];
    for (let j = 0; j < jobs; j++) {
      const ex = (await (await fetch(`${agent.url}/v1/jobs/fire-${j}/executions`)).json()) as {
        output: string;
        state: string;
      }[];
      for (const e of ex) {
        if (e.state !== "success") continue;
        const [ns, slot] = e.output.trim().split(" ");
        delays.push(Number(ns) / 1e6 - Date.parse(slot!));
      }
    }
    const baseDelays = await base;
    console.log("fire delay: scheduled time → job process running");
    console.log(summary(`baseline: setTimeout + ${jobs}× spawn(sh -c)`, baseDelays));
    console.log(summary(`dkron agent: ${jobs} jobs @every 1s (embedded)`, delays));
    reportFigures(
      "fire-delay",
      [50, 99].map((p) => ({
        figure: `fire delay p${p}, ${jobs} jobs @every 1s (scheduled → process running)`,
        ours: percentile(delays, p),
        unit: "ms",
        baseline: percentile(baseDelays, p),
        baselineWhat: "setTimeout + spawn",
        reproduce: `node --import tsx bench/fire-delay.ts ${seconds} ${jobs}`,
      })),
    );
  } finally {
    agent.proc.kill("SIGTERM");
    await agent.exited;
    dir.cleanup();
  }
}

await main();
