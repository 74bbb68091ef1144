import { splitHostPort } from "../shared";
import { type AgentConfig, VERSION } from "./config";

/**
 * Dkron's automatic node tags plus the user's (which win). Besides today's names (`server`,
 * `version`, `rpc_addr`) a control node carries their Dkron 1.x names (`dkron_server`,
 * `dkron_version`, `dkron_rpc_addr`), so jobs written for Dkron 1.x, such as its getting-started
 * job's `"dkron_server": "true:1"`, still find a node. docs/api.md lists them all.
 */
export function nodeTags(c: AgentConfig, advertise: string): Record<string, string> {
  const port = advertise ? String(splitHostPort(advertise)[1]) : "";
  return {
    role: "dkron",
    dc: c.datacenter,
    region: c.region,
    version: VERSION,
    server: "true",
    ...(c.bootstrap_expect === 1 ? { bootstrap: "1" } : {}),
    expect: String(c.bootstrap_expect),
    rpc_addr: advertise,
    port,
    ...dkron1Tags(advertise),
    ...c.tags,
  };
}

/** A control node's tags under their Dkron 1.x names (v1.2 `cmd/dkron.go`, `Agent.getRPCAddr`). */
function dkron1Tags(advertise: string): Record<string, string> {
  return { dkron_server: "true", dkron_version: VERSION, dkron_rpc_addr: advertise };
}
