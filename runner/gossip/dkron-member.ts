import { type Member, MemberStatus } from "../../shared";
import type { MemberView } from "./membership";

/**
 * A gossip member in Dkron's /v1/members shape (Serf's): suspect shows as alive, as Serf reports it;
 * dead as failed. Tags carry the member's own tags plus `role` and `version`, as Dkron's agents
 * advertise them.
 */
export function toDkronMember(v: MemberView): Member {
  const status = v.status === "dead" ? "failed" : v.status === "suspect" ? "alive" : v.status;
  return {
    id: v.name,
    Name: v.name,
    Addr: v.addr,
    Port: v.port,
    Tags: { ...v.meta.tags, role: v.meta.role, version: v.meta.version },
    Status: MemberStatus[status],
    statusText: status,
    ProtocolMin: 1,
    ProtocolMax: 5,
    ProtocolCur: 2,
    DelegateMin: 2,
    DelegateMax: 5,
    DelegateCur: 4,
  };
}
