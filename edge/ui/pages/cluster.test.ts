import { describe, expect, it } from "vitest";
import { aliveMember, type Member, MemberStatus } from "../../../shared";
import { ClusterPage } from "./cluster";

const NOW = Date.UTC(2026, 11, 3, 10, 0, 0);

function render(members: Member[]): string {
  return String(
    ClusterPage({
      csrf: "c",
      self: { name: "admin", scopes: ["admin"], prefix: "", auth: true },
      members,
      status: {
        agent: { name: "c1", version: "0.1.0" },
        serf: {},
        tags: {},
        raft: {
          state: "leader",
          term: 3,
          leader: "c1",
          commit_index: 9,
          applied_index: 9,
          last_log_index: 9,
          last_snapshot_index: 0,
          log_syncs: 0,
          log_synced_entries: 0,
        },
      },
      busy: [],
      now: NOW,
    }),
  );
}

/** The cells of the table row naming `name`. */
function row(html: string, name: string): string {
  const at = html.indexOf(`<strong>${name}</strong>`);
  expect(at).toBeGreaterThan(-1);
  return html.slice(at, html.indexOf("</tr>", at));
}

describe("cluster page", () => {
  it("shows each runner's gossip state, whether its stream is up, and its last heartbeat", () => {
    const control = aliveMember("c1", "127.0.0.1", 8946, {
      server: "true",
      raft_state: "leader",
      gossip: "alive",
    });
    const connected = aliveMember("r-db", "10.0.0.2", 7946, {
      role: "runner",
      gossip: "alive",
      stream: "connected",
      last_heartbeat: new Date(NOW - 12_000).toISOString(),
      pool: "db",
    });
    const cut = aliveMember("r-web", "10.0.0.3", 7946, { role: "runner", gossip: "suspect", stream: "down" });
    const dead = {
      ...aliveMember("r-old", "10.0.0.4", 7946, { role: "runner", gossip: "dead", stream: "down" }),
    };
    dead.Status = MemberStatus.failed;
    dead.statusText = "failed";
    const html = render([control, connected, cut, dead]);

    const db = row(html, "r-db");
    expect(db).toContain('class="badge alive"');
    expect(db).toContain('class="badge connected"');
    expect(db).toContain("12 s ago");
    expect(db).toContain("pool");
    expect(db).not.toContain("last_heartbeat");

    const web = row(html, "r-web");
    expect(web).toContain('class="badge suspect"');
    expect(web).toContain('class="badge down"');

    const old = row(html, "r-old");
    expect(old).toContain('class="badge failed"');
    expect(old).toContain('class="badge dead"');
    // The control node sits in its own table, not among the runners.
    expect(html.indexOf("<strong>c1</strong>")).toBeLessThan(html.indexOf("<h2>Runners</h2>"));
  });
});
