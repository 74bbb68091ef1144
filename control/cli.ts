import { isAppError, systemClock } from "../shared";
import { AGENT_HELP, loadAgentConfig, redacted, VERSION } from "./config";
import { keysCommand } from "./keys-cli";
import { createControlNode, newGossipKey, realWorld } from "./main";
import { keygenCommand, membersCommand } from "./members-cli";
import { leaveCommand, raftCommand } from "./raft-cli";
import { runnerCommand, runnerTokenCommand } from "./runner-cli";
import { scheduleCommand } from "./schedule-cli";
import { tokenCommand } from "./token-cli";

const HELP = `Usage: dkron <command> [options]

Commands:
  agent     start a control node (API, scheduler, local runner)
  raft      list-peers / remove-peer: inspect and change the Raft configuration
  leave     ask a control node to leave the cluster and stop
  members   list the gossip pool's members: control nodes and runners, status, role, tags
  keygen    print a new gossip encryption key for --encrypt
  keys      list / install / use / remove gossip keys: rotate the pool's key without a restart
  schedule  preview: list a schedule's next runs and what DST does to them (no server needed)
  token     create / list / revoke REST API tokens
  runner-token  create / list / revoke join tokens for remote runners
  runner    list / revoke registered remote runners
  version   print the version

Run 'dkron <command> --help' for a command's options.
`;

/** The dkron CLI: a user mistake prints one line and exits 1; a bug prints its stack. */
export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "agent":
        return await agent(rest);
      case "raft":
        return await raftCommand(rest, process.env);
      case "leave":
        return await leaveCommand(rest, process.env);
      case "members":
        return await membersCommand(rest, process.env);
      case "keygen":
        return keygenCommand(rest, newGossipKey);
      case "keys":
        return await keysCommand(rest, process.env);
      case "schedule":
        return scheduleCommand(rest, { clock: systemClock, out: (text) => process.stdout.write(text) });
      case "token":
        return await tokenCommand(rest, process.env);
      case "runner-token":
        return await runnerTokenCommand(rest, process.env);
      case "runner":
        return await runnerCommand(rest, process.env);
      case "version":
      case "--version":
        console.log(`dkron-ts ${VERSION}`);
        return;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return;
      default:
        console.error(`dkron: unknown command "${cmd}" (run dkron --help)`);
        process.exit(1);
    }
  } catch (e) {
    if (isAppError(e)) {
      console.error(`dkron: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}

async function agent(argv: string[]): Promise<void> {
  const { config, help } = loadAgentConfig(argv, process.env);
  if (help) {
    process.stdout.write(AGENT_HELP);
    return;
  }
  const world = realWorld(config);
  world.logger.info("configuration", redacted(config));
  const node = createControlNode(config, world);
  try {
    await node.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "EADDRINUSE") {
      console.error(`dkron: --http-addr ${config.http_addr} is already in use; pick another port`);
      process.exit(1);
    }
    throw e;
  }
  console.error(
    `dkron: node ${config.node_name} is up: API ${node.scheme}://${node.address}/v1 (data in ${config.data_dir})`,
  );
  let signals = 0;
  const shutdown = (sig: string) => {
    signals++;
    if (signals > 1) {
      console.error(`dkron: ${sig} again: exiting now`);
      process.exit(1);
    }
    console.error(
      `dkron: ${sig}: finishing running executions (up to ${config.shutdown_grace} ms), then exiting`,
    );
    void node.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // POST /v1/leave stops the node from inside.
  void node.whenStopped().then(() => process.exit(0));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
