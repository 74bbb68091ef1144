/**
 * One gossip member as its own process (a PoolMember on a real UDP socket), for tests that put
 * members in separate network namespaces. Prints one JSON line when bound
 * (`{"ready":true,"gossip":"host:port"}`), then one per view change
 * (`{"event":"failed","member":"m2","status":"dead"}`). SIGTERM leaves gracefully.
 *
 * Run: node --import tsx gossip-process.ts --name N --bind H:P [--join H:P ...] [--config JSON]
 *   (--config: GossipConfigInput, e.g. '{"reconnectInterval":3000}')
 */
import { parseArgs } from "node:util";
import { type GossipConfigInput, PoolMember } from "../../runner/gossip";
import { createLogger, systemClock } from "../../shared";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    bind: { type: "string" },
    join: { type: "string", multiple: true, default: [] },
    config: { type: "string", default: "{}" },
  },
});
if (!values.name || !values.bind) {
  process.stderr.write("gossip-process: --name and --bind are required\n");
  process.exit(2);
}
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const logger = createLogger({ level: "warn", write: (l) => process.stderr.write(`${l}\n`) });
const pool = new PoolMember({
  name: values.name,
  bind: values.bind,
  bindExplicit: true,
  join: values.join,
  keys: [],
  config: JSON.parse(values.config) as GossipConfigInput,
  clock: systemClock,
  logger,
});
await pool.start({ role: "runner", version: "0.1.0", tags: {} });
pool.shell?.onEvent((e) => say({ event: e.type, member: e.member.name, status: e.member.status }));
say({ ready: true, gossip: pool.address });
process.on("SIGTERM", () => {
  void pool.leave().then(() => process.exit(0));
});
