// The public face of control/consensus/: what other folders use. Import from the folder, not its files.

export { adoptCommandLog } from "./adopt-command-log";
export { type Consensus, eventsOf } from "./consensus";
export { RaftConsensus } from "./raft-consensus";
