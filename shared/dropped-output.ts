/**
 * The line an execution's stored output starts with when some of it was dropped: older than the
 * tail the runner keeps, or cut by the leader. Written once, by the leader, from the runner's
 * `dropped_bytes` and its own cut (runner/agent.ts, control/dispatch/live-output.ts).
 */
export function droppedOutputNote(bytes: number): string {
  return `[dkron: ${bytes} bytes of output dropped]\n`;
}
