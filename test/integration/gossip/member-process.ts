/**
 * One gossip member as its own process, for the real-UDP test: binds 127.0.0.1:0, joins the seed
 * given, prints one JSON line when ready and one per view change. SIGTERM leaves gracefully.
 * Run: node --import tsx member-process.ts <name> [seed host:port] [base64 key]
 */
import { bindUdp, cryptoSeededRandom, Gossip, Keyring } from "../../../runner/gossip";
import { systemClock } from "../../../shared/clock";

const [name = "m", seed, key] = process.argv.slice(2);
const transport = await bindUdp("127.0.0.1", 0);
const gossip = Gossip.create(
  {
    name,
    meta: {
      role: name.startsWith("c") ? "control" : "runner",
      version: "0.1.0",
      tags: { pid: String(process.pid) },
    },
    join: seed ? [seed] : [],
    // Fast timings so the test takes seconds: suspicion min = 4 × 200 ms = 800 ms at n ≤ 10.
    config: { probeInterval: 200, probeTimeout: 100, gossipInterval: 50, pushPullInterval: 2000 },
  },
  {
    clock: systemClock,
    random: cryptoSeededRandom(),
    transport,
    keyring: key ? new Keyring([key]) : undefined,
  },
);
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
gossip.onEvent((e) => say({ event: e.type, member: e.member.name, status: e.member.status }));
gossip.start();
say({ ready: true, port: transport.local.port });
process.on("SIGTERM", () => {
  void gossip.leave().then(() => process.exit(0));
});
