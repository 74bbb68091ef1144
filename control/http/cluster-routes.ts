import { Hono } from "hono";
import { z } from "zod";
import type { Clock, Logger } from "../../shared";
import { AppError, bearerToken, isAppError, parseOrThrow, safeEqual } from "../../shared";
import type { Hello, PeerBook, PeerInfo } from "../cluster";
import type { RaftConsensus } from "../consensus";
import type { ConfChangeRequest } from "../raft";
import { errorResponse } from "./control-app";

const JoinBody = z.object({ id: z.string().min(1), addr: z.string().min(3) });
const RemoveBody = z.object({ id: z.string().min(1) });

/** Dependencies of the cluster routes. */
export interface ClusterRoutesDeps {
  self: () => Hello;
  consensus: () => RaftConsensus | undefined;
  peers: PeerBook;
  secret: string;
  logger: Logger;
  /** Proposes peer.set (the address must be replicated before the member is added). */
  recordPeer: (id: string, addr: string) => Promise<void>;
  removePeer: (id: string) => Promise<void>;
  /** Times the waits between retries of a membership change that another one still blocks. */
  clock: Clock;
}

/** How long /_raft/remove waits for a pending membership change (a new leader's, say) to clear. */
const CHANGE_WAIT_MS = 5000;

/** Discovery and membership endpoints (the Raft stream itself is a WebSocket upgrade) on the control node's HTTP port, behind the cluster secret. */
export function clusterRoutes(d: ClusterRoutesDeps): Hono {
  const app = new Hono();
  app.use("/_raft/*", async (c, next) => {
    if (!safeEqual(bearerToken(c.req.header("authorization")), d.secret)) {
      const { body, status } = errorResponse(
        new AppError("UNAUTHORIZED", "raft: missing or wrong cluster secret"),
        d.logger,
      );
      return c.json(body as object, status);
    }
    return next();
  });
  app.get("/_raft/hello", (c) => c.json(d.self()));
  app.get("/_raft/peers", (c) => c.json(listPeers(d)));
  app.post("/_raft/join", async (c) => {
    try {
      const body = parseOrThrow(JoinBody, await c.req.json().catch(() => null), "join");
      const consensus = mustLead(d);
      await d.recordPeer(body.id, body.addr);
      const conf = consensus.conf();
      if (!conf.voters.includes(body.id) && !conf.learners.includes(body.id))
        consensus.changeMembership({ type: "addVoter", node: body.id });
      d.logger.info("node joining as a learner; promoted once caught up", { peer: body.id, addr: body.addr });
      return c.json(d.self());
    } catch (e) {
      const { body, status } = errorResponse(e, d.logger);
      return c.json(body as object, status);
    }
  });
  app.post("/_raft/remove", async (c) => {
    try {
      const body = parseOrThrow(RemoveBody, await c.req.json().catch(() => null), "remove");
      const consensus = mustLead(d);
      const conf = consensus.conf();
      if (!conf.voters.includes(body.id) && !conf.learners.includes(body.id)) {
        throw new AppError("NOT_FOUND", `peer "${body.id}" is not a member`, { field: "peer_id" });
      }
      await changeMembership(d, { type: "remove", node: body.id });
      if (body.id === d.self().id) {
        // The leader removes itself: it steps down once the change applies, so there is no leader here
        // to propose peer.remove afterwards (the address row stays; a member that rejoins sets it again).
        await until(d, () => !isMember(consensus, body.id));
        if (isMember(consensus, body.id))
          throw new AppError(
            "TIMEOUT",
            "the removal was proposed but not applied in time; check list-peers",
            {
              outcome: "unknown",
            },
          );
      } else {
        // Proposed after the conf entry: once it commits, the removal has committed and applied here.
        await d.removePeer(body.id);
      }
      return c.json(listPeers(d));
    } catch (e) {
      const { body, status } = errorResponse(e, d.logger);
      return c.json(body as object, status);
    }
  });
  return app;
}

function isMember(consensus: RaftConsensus, id: string): boolean {
  const conf = consensus.conf();
  return conf.voters.includes(id) || conf.learners.includes(id);
}

async function until(d: ClusterRoutesDeps, done: () => boolean): Promise<void> {
  const sleep = (ms: number) => new Promise<void>((r) => d.clock.setTimeout(r, ms));
  for (let waited = 0; !done() && waited < CHANGE_WAIT_MS; waited += 50) await sleep(50);
}

/**
 * Proposes a membership change on the leader, waiting up to CHANGE_WAIT_MS while another change (or
 * a new leader's first entry) still blocks it, so `dkron raft remove-peer` right after an election or
 * a join does not fail with CONFLICT.
 */
async function changeMembership(d: ClusterRoutesDeps, req: ConfChangeRequest): Promise<void> {
  let last: unknown;
  await until(d, () => {
    try {
      mustLead(d).changeMembership(req);
      last = undefined;
      return true;
    } catch (e) {
      last = e;
      return !(isAppError(e) && e.code === "CONFLICT");
    }
  });
  if (last) throw last;
}

function mustLead(d: ClusterRoutesDeps): RaftConsensus {
  const consensus = d.consensus();
  if (!consensus) throw new AppError("UNAVAILABLE", "raft is not running on this node yet");
  if (!consensus.isLeader()) {
    const leader = consensus.status().leader;
    throw new AppError("NOT_LEADER", `not the leader; the leader is ${leader || "unknown"}`, {
      leader: d.peers.url(leader),
    });
  }
  return consensus;
}

function listPeers(d: ClusterRoutesDeps): PeerInfo[] {
  const consensus = d.consensus();
  if (!consensus) return [];
  const conf = consensus.conf();
  const st = consensus.raftStatus();
  const book = d.peers.all();
  const row = (id: string, suffrage: "voter" | "learner"): PeerInfo => ({
    id,
    addr: book.get(id) ?? "",
    suffrage,
    leader: st.leader === id,
    ...(st.progress?.[id] ? { match: st.progress[id]!.match } : {}),
  });
  return [...conf.voters.map((v) => row(v, "voter")), ...conf.learners.map((l) => row(l, "learner"))];
}
