import { parseArgs } from "node:util";
import { AppError, followLeader, leaderOf, nodeUrl } from "../shared";
import { API_OPTIONS_HELP, apiCall, apiTarget } from "./api-cli";
import type { PeerInfo } from "./cluster";

/** Help for `dkron raft`. */
export const RAFT_HELP = `Usage: dkron raft <list-peers|remove-peer> [options]

  list-peers                 show the Raft configuration: voters, learners, the leader
  remove-peer --peer-id ID   remove a control node from the configuration

Options:
  --http-addr HOST:PORT      any control node, or an https:// URL (default: 127.0.0.1:8080; env DKRON_HTTP_ADDR)
  --cluster-secret SECRET    the cluster secret (env DKRON_CLUSTER_SECRET)
  -h, --help                 show this help
`;

/** Help for `dkron leave`. */
export const LEAVE_HELP = `Usage: dkron leave [options]

Asks a control node to leave the cluster cleanly (hand over leadership, leave the Raft
configuration) and stop. Same as POST /v1/leave (an admin token).

Options:
${API_OPTIONS_HELP}
`;

interface Opts {
  addr: string;
  secret: string;
}

function opts(argv: string[], extra: Record<string, { type: "string" }> = {}) {
  try {
    return parseArgs({
      args: argv,
      options: {
        "http-addr": { type: "string" },
        "cluster-secret": { type: "string" },
        help: { type: "boolean", short: "h" },
        ...extra,
      },
      allowPositionals: false,
      strict: true,
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new AppError("VALIDATION", `${(e as Error).message} (see --help)`);
  }
}

function headers(o: Opts): Record<string, string> {
  return { "content-type": "application/json", ...(o.secret ? { authorization: `Bearer ${o.secret}` } : {}) };
}

/** One request to the node at `addr`; a NOT_LEADER naming the leader is thrown for followLeader. */
async function callAt(o: Opts, addr: string, path: string, init: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${nodeUrl(addr)}${path}`, {
      ...init,
      headers: headers(o),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new AppError("UNAVAILABLE", `cannot reach a control node at ${addr} (set --http-addr)`);
  }
  const body = (await res.json().catch(() => null)) as {
    error?: { code: string; message: string; leader?: string };
  } | null;
  if (res.ok) return body;
  if (body?.error?.code === "NOT_LEADER" && body.error.leader)
    throw new AppError("NOT_LEADER", body.error.message, { leader: body.error.leader });
  throw new AppError("BAD_REQUEST", body?.error?.message ?? `HTTP ${res.status} from ${addr}`);
}

/** A request to the cluster's leader, reached from --http-addr (three nodes asked at most). */
async function call(o: Opts, path: string, init: RequestInit = {}): Promise<unknown> {
  try {
    return await followLeader((leader) => callAt(o, leader ?? o.addr, path, init), 2);
  } catch (e) {
    if (leaderOf(e) !== undefined) throw new AppError("UNAVAILABLE", "no leader answered");
    throw e;
  }
}

/** `dkron raft ...`. */
export async function raftCommand(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h") {
    process.stdout.write(RAFT_HELP);
    return;
  }
  const v = opts(rest, { "peer-id": { type: "string" } });
  if (v.help) {
    process.stdout.write(RAFT_HELP);
    return;
  }
  const o: Opts = {
    addr: String(v["http-addr"] ?? env.DKRON_HTTP_ADDR ?? "127.0.0.1:8080"),
    secret: String(v["cluster-secret"] ?? env.DKRON_CLUSTER_SECRET ?? ""),
  };
  if (sub === "list-peers") {
    const peers = (await call(o, "/_raft/peers")) as PeerInfo[];
    const rows = [
      ["Node", "ID", "Address", "State", "Voter"],
      ...peers.map((p) => [
        p.id,
        p.id,
        p.addr,
        p.leader ? "leader" : "follower",
        String(p.suffrage === "voter"),
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
    return;
  }
  if (sub === "remove-peer") {
    const id = v["peer-id"];
    if (typeof id !== "string" || !id)
      throw new AppError("VALIDATION", "remove-peer needs --peer-id ID (see dkron raft list-peers)");
    await call(o, "/_raft/remove", { method: "POST", body: JSON.stringify({ id }) });
    console.log(`removed ${id} from the raft configuration`);
    return;
  }
  throw new AppError("VALIDATION", `unknown raft command "${sub}" (use list-peers or remove-peer)`);
}

/** `dkron leave`. */
export async function leaveCommand(argv: string[], env: Record<string, string | undefined>): Promise<void> {
  const v = opts(argv, { token: { type: "string" }, "data-dir": { type: "string" } });
  if (v.help) {
    process.stdout.write(LEAVE_HELP);
    return;
  }
  const target = apiTarget(v, env);
  await apiCall(target, "POST", "/v1/leave");
  console.log(`${target.url} is leaving the cluster`);
}
