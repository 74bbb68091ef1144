import { type Member, MemberStatus } from "../../shared";
import type { MemberView } from "./membership";

/**
 * A gossip member in Dkron's /v1/members shape (Serf's): suspect shows as alive, as Serf reports it;
 * dead as failed. Tags carry the member's own tags plus `version`, and `role`: `dkron` for a control
 * node (Dkron's own tag, which jobs target) and `runner` for a runner, unless the member set its own.
 */
export function toDkronMember(v: MemberView): Member {
  const status = v.status === "dead" ? "failed" : v.status === "suspect" ? "alive" : v.status;
  return {
    id: v.name,
    Name: v.name,
    Addr: v.addr,
    Port: v.port,
    Tags: {
      role: v.meta.role === "control" ? "dkron" : "runner",
      ...v.meta.tags,
      version: v.meta.version,
      // Dkron's Status has no suspect; the gossip state itself (alive, suspect, dead, left) rides here.
      gossip: v.status,
    },
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
