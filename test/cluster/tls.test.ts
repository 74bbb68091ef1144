import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent, fetch } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/agent-process";
import { TestCluster } from "../helpers/cluster";
import { tempDir } from "../helpers/tmp";

const dir = tempDir("dkron-tls-");
let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.stop();
  dir.cleanup();
});

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A private CA and a server certificate for 127.0.0.1, made with openssl. */
function makeCerts(d: string): { ca: string; cert: string; key: string } {
  const p = (f: string) => join(d, f);
  const run = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=dkron-test-ca",
    "-keyout",
    p("ca.key"),
    "-out",
    p("ca.pem"),
  );
  run(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    p("node.key"),
    "-out",
    p("node.csr"),
  );
  writeFileSync(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  run(
    "x509",
    "-req",
    "-in",
    p("node.csr"),
    "-CA",
    p("ca.pem"),
    "-CAkey",
    p("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    p("ext.cnf"),
    "-out",
    p("node.pem"),
  );
  return { ca: p("ca.pem"), cert: p("node.pem"), key: p("node.key") };
}

describe.skipIf(!hasOpenssl())("cluster over TLS", () => {
  it("elects a leader over HTTPS, replicates a write made through a follower, runs jobs over WSS", async () => {
    const certs = makeCerts(dir.path);
    const agent = new Agent({ connect: { ca: readFileSync(certs.ca) } });
    const get = async <T>(url: string): Promise<T | undefined> => {
      try {
        const r = await fetch(url, { dispatcher: agent, signal: AbortSignal.timeout(2000) });
        return r.ok ? ((await r.json()) as T) : undefined;
      } catch {
        return undefined;
      }
    };
    cluster = await TestCluster.start({
      size: 3,
      baseDir: join(dir.path, "nodes"),
      scheme: "https",
      extraArgs: ["--tls-cert-file", certs.cert, "--tls-key-file", certs.key],
      env: { NODE_EXTRA_CA_CERTS: certs.ca },
    });
    const c = cluster;
    const leaderName = await waitFor(
      "a leader over https",
      async () => {
        const st = await get<{ raft: { state: string; leader: string } }>(`${c.nodes[0]!.url}/v1/`);
        return st?.raft.leader || undefined;
      },
      30_000,
    );
    const follower = c.nodes.find((n) => n.name !== leaderName)!;
    const created = await fetch(`${follower.url}/v1/jobs`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "tls-job",
        schedule: "@every 1s",
        tags: { server: "true:1" },
        executor: "shell",
        executor_config: { command: "echo secure" },
      }),
    });
    expect(created.status).toBe(201);
    for (const n of c.nodes) {
      const job = await waitFor(`the job on ${n.name}`, () =>
        get<{ name: string }>(`${n.url}/v1/jobs/tls-job?stale=true`),
      );
      expect(job.name).toBe("tls-job");
    }
    const ex = await waitFor("a run over wss", async () => {
      const list = await get<{ state: string; output: string }[]>(
        `${follower.url}/v1/jobs/tls-job/executions`,
      );
      return list?.find((e) => e.state === "success");
    });
    expect(ex.output).toBe("secure\n");
  }, 90_000);
});
