/**
 * `npm run cluster`: three control nodes on loopback (HTTP 8080-8082), each with its local runner,
 * data under ./data/cluster/<node>. Ctrl-C stops all three gracefully.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../control/bin/dkron.mjs", import.meta.url));
const ports = [8080, 8081, 8082];
const secret = process.env.DKRON_CLUSTER_SECRET ?? "dkron-local-cluster";
const extra = process.argv.slice(2);

const children = ports.map((port, i) => {
  const name = `node${i + 1}`;
  const args = [
    BIN,
    "agent",
    "--server",
    "--bootstrap-expect",
    "3",
    "--node-name",
    name,
    "--http-addr",
    `127.0.0.1:${port}`,
    "--data-dir",
    `data/cluster/${name}`,
    ...ports.filter((p) => p !== port).flatMap((p) => ["--join", `127.0.0.1:${p}`]),
    "--cluster-secret",
    secret,
    "--log-level",
    "warn",
    ...extra,
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const prefix = `[${name}] `;
  for (const s of [child.stdout, child.stderr]) {
    s.on("data", (d: Buffer) => {
      for (const line of String(d).split("\n")) if (line) process.stdout.write(prefix + line + "\n");
    });
  }
  child.on("exit", (code) => process.stdout.write(`${prefix}exited (${code})\n`));
  return child;
});

/** The first leader writes the admin token to its data dir (unless --insecure-no-auth). */
function adminTokenFile(): string | undefined {
  return ports
    .map((_, i) => `data/cluster/node${i + 1}/admin-token`)
    .find((f) => existsSync(f) && readFileSync(f, "utf8").trim() !== "");
}

async function waitForLeader(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const file = adminTokenFile();
    const headers: Record<string, string> = file
      ? { authorization: `Bearer ${readFileSync(file, "utf8").trim()}` }
      : {};
    for (const port of ports) {
      const r = await fetch(`http://127.0.0.1:${port}/v1/leader`, { headers }).catch(() => null);
      if (r?.ok) {
        const leader = (await r.json()) as { Name: string; Addr: string; Port: number };
        console.log(`\ncluster is up: leader ${leader.Name} at ${leader.Addr}:${leader.Port}`);
        console.log(`API on any node: ${ports.map((p) => `http://127.0.0.1:${p}/v1`).join("  ")}`);
        if (file) console.log(`admin token: export DKRON_TOKEN=$(cat ${file})\n`);
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  console.log("no leader after 30 s; see the node logs above");
}

void waitForLeader();
const stop = () => {
  for (const c of children) c.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
