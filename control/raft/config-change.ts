import { type ConfChange, type ConfState, confChangeSchema } from "./messages";

/** The empty membership of a node that has not yet learned its cluster. */
export function emptyConf(): ConfState {
  return { voters: [], learners: [], autoPromote: [] };
}

/** A deep copy, so callers can never mutate the node's membership. */
export function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners], autoPromote: [...c.autoPromote] };
}

/** Parses a `conf` entry's data. */
export function decodeConfChange(data: string): ConfChange {
  return confChangeSchema.parse(JSON.parse(data));
}

/** Encodes a change for a `conf` entry; voters are sorted so every bootstrapping node writes identical entries. */
export function encodeConfChange(cc: ConfChange): string {
  return JSON.stringify(cc.type === "bootstrap" ? { ...cc, voters: [...cc.voters].sort() } : cc);
}

/**
 * The membership after one change. Changes are single-server, so any majority of the old voters
 * intersects any majority of the new ones; that is what makes them safe without joint consensus.
 */
export function applyConfChange(c: ConfState, cc: ConfChange): ConfState {
  const without = (xs: string[], id: string) => xs.filter((x) => x !== id);
  switch (cc.type) {
    case "bootstrap":
      return { voters: [...cc.voters].sort(), learners: [], autoPromote: [] };
    case "addLearner":
      if (c.learners.includes(cc.node) && cc.autoPromote && !c.autoPromote.includes(cc.node)) {
        // An existing learner asked to become a voter: promote it once it has caught up.
        return { ...cloneConf(c), autoPromote: [...c.autoPromote, cc.node].sort() };
      }
      if (c.voters.includes(cc.node) || c.learners.includes(cc.node)) return cloneConf(c);
      return {
        voters: [...c.voters],
        learners: [...c.learners, cc.node].sort(),
        autoPromote: cc.autoPromote ? [...c.autoPromote, cc.node].sort() : [...c.autoPromote],
      };
    case "promote":
      if (!c.learners.includes(cc.node)) return cloneConf(c);
      return {
        voters: [...c.voters, cc.node].sort(),
        learners: without(c.learners, cc.node),
        autoPromote: without(c.autoPromote, cc.node),
      };
    case "remove":
      return {
        voters: without(c.voters, cc.node),
        learners: without(c.learners, cc.node),
        autoPromote: without(c.autoPromote, cc.node),
      };
  }
}

/** Votes needed out of n voters. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The highest index that a quorum of voters has reached, given each voter's match index. */
export function quorumIndex(voters: readonly string[], matchOf: (id: string) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[quorum(voters.length) - 1] ?? 0;
}

/** Outcome of counting votes: won, lost, or still pending. */
export type VoteResult = "won" | "lost" | "pending";

/** Tallies granted and rejected votes among the voters. */
export function tally(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const g = votes.get(v);
    if (g === true) granted++;
    else if (g === false) rejected++;
  }
  const q = quorum(voters.length);
  if (granted >= q) return "won";
  if (rejected > voters.length - q) return "lost";
  return "pending";
}
