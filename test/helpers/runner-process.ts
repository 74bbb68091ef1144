/**
 * A remote runner as its own process, for the multi-process tests and the bench until `dkron-runner
 * start` exists: a RunnerAgent with the real executors on a WebSocket to the cluster, and a gossip
 * member that joins through the address given. Prints one JSON line when its gossip socket is bound
 * (`{"ready":true,"gossip":"host:port"}`), then one per gossip view change. SIGTERM drains and leaves.
 *
 * Run: node --import tsx runner-process.ts --url ws://H:P/_runner/ws --token T --name N
 *        [--tag k=v ...] [--gossip-join H:P ...] [--encrypt KEY] [--max-concurrent N] [--data-dir D]
 * With --data-dir, the keyring the leader sends is saved there (keyring.json) and used on the next start.
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { createExecutors, followKeyring, PoolMember, RunnerAgent, startKeys } from "../../runner";
import { createLogger, systemClock } from "../../shared";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    token: { type: "string", default: "" },
    name: { type: "string" },
    tag: { type: "string", multiple: true, default: [] },
    "gossip-join": { type: "string", multiple: true, default: [] },
    encrypt: { type: "string", multiple: true, default: [] },
    "max-concurrent": { type: "string" },
    "data-dir": { type: "string" },
  },
});
const name = values.name ?? "runner";
const tags = Object.fromEntries(
  values.tag.map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)] as const),
);
const logger = createLogger({ level: "warn", write: (l) => process.stderr.write(`${l}\n`) });
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const pool = new PoolMember({
  name,
  bind: "127.0.0.1:0",
  bindExplicit: true,
  join: values["gossip-join"],
  keys: startKeys(values["data-dir"], values.encrypt),
  clock: systemClock,
  logger,
});
const agent = new RunnerAgent({
  url: values.url ?? "",
  token: values.token,
  name,
  tags,
  executors: createExecutors({ clock: systemClock, spawn }),
  clock: systemClock,
  logger,
  webSocket: (url, o) => new WebSocket(url, o),
  random: Math.random,
  ...(values["max-concurrent"] ? { maxConcurrent: Number(values["max-concurrent"]) } : {}),
  onKeyring: (keys) => {
    followKeyring(pool, { dataDir: values["data-dir"], logger })(keys);
    say({ keyring: pool.keyring?.fingerprints() ?? [] });
  },
});
await pool.start({ role: "runner", version: "0.1.0", tags });
pool.shell?.onEvent((e) => say({ event: e.type, member: e.member.name, status: e.member.status }));
say({ ready: true, gossip: pool.address });
void agent.start();
process.on("SIGTERM", () => {
  void agent
    .stop(5000)
    .then(() => pool.leave())
    .then(() => process.exit(0));
});
