// The top-level help of dkron-runner, in a module of its own: the bin prints it from a small bundle
// (dist/help.js) without loading the 2 MB one with ws, zod and undici, so `--help` starts fast.

/** What `dkron-runner --help` prints. */
export const HELP = `Usage: dkron-runner <command> [options]

Commands:
  join <control-url> --token <join-token>   exchange a join token for this runner's own
                                            credential, save it, then run as a service
  start --data-dir D                        run as a service from the saved credential
  status --data-dir D                       show connection, leader, running executions
                                            and dropped-output counters of a running service

Run 'dkron-runner <command> --help' for a command's options.
`;
