import { splitHostPort } from "../shared";
import { type AgentConfig, VERSION } from "./config";

/** Dkron's automatic node tags plus the user's. */
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
    ...c.tags,
  };
}
