import type { Clock, Logger } from "../../shared";
import type { Consensus } from "../consensus";
import type { PeerBook } from "./peer-book";

/** Points the Raft transport at every known peer but this node. */
export function syncPeers(
  peers: PeerBook,
  transport: { setPeer(id: string, url: string): void } | undefined,
  self: string,
  scheme: "http" | "https",
): void {
  if (!transport) return;
  for (const [id, addr] of peers.all()) if (id !== self) transport.setPeer(id, `${scheme}://${addr}`);
}

/** The leader records addresses it learned outside the log, so every node can reach every peer. */
export function replicateLearnedPeers(
  peers: PeerBook,
  consensus: Pick<Consensus, "propose">,
  clock: Clock,
  logger: Logger,
): void {
  for (const [id, addr] of peers.unreplicated()) {
    consensus
      .propose({ type: "peer.set", at: clock.now(), id, addr })
      .catch((e) => logger.debug("peer.set not committed", { err: String(e) }));
  }
}
