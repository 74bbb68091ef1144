import { defineSeedSuite } from "../helpers/raft-sim-suite";

defineSeedSuite(3);
