// The seeded source lives in shared/ so the Raft core and the gossip core draw from the same one.
export { forkRandom, type Random, seededRandom } from "../../shared";
