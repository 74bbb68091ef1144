/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { ExecutionJson, Member, NodeStatus, SelfJson } from "../../../shared";
import { KeyValues } from "../components";
import { formatDuration, parseApiTime, relativeTime } from "../format";
import { Badge, Layout } from "../layout";

/** Whether a member is a control node (Dkron's server tag, either name). */
export function isControl(m: Member): boolean {
  return m.Tags.server === "true" || m.Tags.dkron_server === "true" || m.Tags.raft_state !== undefined;
}

const INTERNAL_TAG =
  /^(raft_|rpc_addr$|dkron_|server$|port$|role$|version$|region$|dc$|gossip|stream$|last_heartbeat$)/;

/** A runner's stream badge: only a connected stream is dispatchable (the leader says; "—" elsewhere). */
function streamState(m: Member): string {
  return m.Tags.stream ?? (m.Tags.last_heartbeat ? "connected" : "—");
}

/** Control nodes with their Raft view, runners with their tags and load, and what runs now. */
export function ClusterPage(p: {
  csrf: string;
  self: SelfJson;
  members: Member[];
  status: NodeStatus;
  busy: ExecutionJson[];
  now: number;
}) {
  const controls = p.members.filter(isControl);
  const runners = p.members.filter((m) => !isControl(m));
  const runningOn = (name: string) => p.busy.filter((e) => e.node_name === name).length;
  const leader = p.status.raft.leader;
  return (
    <Layout title="Cluster" active="cluster" csrf={p.csrf} self={p.self}>
      <h1>
        Cluster{" "}
        <span class="sub">
          leader {leader || "none (no quorum)"} · term {p.status.raft.term}
        </span>
      </h1>
      <section class="panel flush">
        <h2>Control nodes</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Status</th>
                <th>Address</th>
                <th class="num">Term</th>
                <th class="num">Commit</th>
                <th class="num">Applied / match</th>
                <th class="hide-sm">Suffrage</th>
                <th class="num">Running</th>
              </tr>
            </thead>
            <tbody>
              {controls.map((m) => (
                <tr>
                  <td>
                    <strong>{m.Name}</strong>
                  </td>
                  <td>
                    <Badge
                      state={m.Name === leader ? "leader" : "follower"}
                      label={m.Tags.raft_state ?? "?"}
                    />
                  </td>
                  <td>
                    <Badge state={m.statusText} />
                  </td>
                  <td class="mono">{m.Tags.rpc_addr ?? `${m.Addr}:${m.Port}`}</td>
                  <td class="num">{m.Tags.raft_term ?? (m.Name === leader ? p.status.raft.term : "—")}</td>
                  <td class="num">{m.Tags.raft_commit_index ?? "—"}</td>
                  <td class="num">{m.Tags.raft_applied_index ?? m.Tags.raft_match_index ?? "—"}</td>
                  <td class="hide-sm">{m.Tags.raft_suffrage ?? "—"}</td>
                  <td class="num">{runningOn(m.Name)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel flush">
        <h2>Runners</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Address</th>
                <th>Gossip</th>
                <th>Stream</th>
                <th>Last heartbeat</th>
                <th>Tags</th>
                <th class="hide-sm">Version</th>
                <th class="num">Running</th>
              </tr>
            </thead>
            <tbody>
              {runners.length === 0 ? (
                <tr>
                  <td colspan={9} class="muted">
                    No remote runners; control nodes run jobs with their local runner.
                  </td>
                </tr>
              ) : (
                runners.map((m) => (
                  <tr>
                    <td>
                      <strong>{m.Name}</strong>
                    </td>
                    <td>
                      <Badge state={m.statusText} />
                    </td>
                    <td class="mono">{m.Addr}</td>
                    <td>{m.Tags.gossip ? <Badge state={m.Tags.gossip} /> : "—"}</td>
                    <td>
                      <Badge state={streamState(m)} />
                    </td>
                    <td>
                      {m.Tags.last_heartbeat ? (
                        <time datetime={m.Tags.last_heartbeat}>
                          {relativeTime(parseApiTime(m.Tags.last_heartbeat), p.now)}
                        </time>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td>
                      <KeyValues
                        map={Object.fromEntries(
                          Object.entries(m.Tags).filter(([k]) => !INTERNAL_TAG.test(k)),
                        )}
                      />
                    </td>
                    <td class="hide-sm">{m.Tags.version ?? "—"}</td>
                    <td class="num">{runningOn(m.Name)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </section>
      <section class="panel flush" id="busy">
        <h2>Running now</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Job</th>
                <th>Node</th>
                <th class="num">For</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {p.busy.length === 0 ? (
                <tr>
                  <td colspan={4} class="muted">
                    Nothing is running.
                  </td>
                </tr>
              ) : (
                p.busy.map((e) => {
                  const started = parseApiTime(e.started_at);
                  return (
                    <tr>
                      <td>
                        <a href={`/ui/jobs/${encodeURIComponent(e.job_name)}`}>{e.job_name}</a>
                      </td>
                      <td>{e.node_name}</td>
                      <td class="num">{started === null ? "—" : formatDuration(p.now - started)}</td>
                      <td>
                        <a
                          href={`/ui/jobs/${encodeURIComponent(e.job_name)}/executions/${encodeURIComponent(e.id)}`}
                        >
                          live log
                        </a>
                      </td>
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  );
}
