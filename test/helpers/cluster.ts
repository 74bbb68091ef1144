import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../control/bin/dkron.mjs", import.meta.url));

/** Free loopback TCP ports (bound then released; fine for tests on one machine). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import("node:net").Server>((resolve) => {
          const s = createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** One control node process of a test cluster. */
export interface ClusterNode {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  proc: ChildProcess | undefined;
  log: string;
  /** Its gossip UDP port with `gossip` (0 otherwise). */
  gossipPort: number;
}

/** Options of a test cluster. */
export interface ClusterOptions {
  size: number;
  baseDir: string;
  profile?: "default" | "fast";
  /** The cluster secret every node gets (default "test-secret"); "" starts them without one. */
  secret?: string;
  extraArgs?: string[];
  /** Check API tokens (each node's first leader writes `<data-dir>/admin-token`); default off (--insecure-no-auth). */
  auth?: boolean;
  env?: Record<string, string>;
  /** Flags for node itself, before the script (e.g. --cpu-prof for a profile of each node). */
  nodeArgs?: string[];
  /** https when extraArgs configure TLS. */
  scheme?: "http" | "https";
  /** Give each node its own gossip port (--gossip-bind) and join the others' (--gossip-join). */
  gossip?: boolean;
}

/** A cluster of real `dkron agent` processes on loopback, each with its local runner. */
export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private constructor(private readonly opts: ClusterOptions) {}

  /** Picks ports and starts every node (bootstrap-expect = size). */
  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const c = new TestCluster(opts);
    const ports = await freePorts(opts.size);
    const gossipPorts = opts.gossip ? await freePorts(opts.size) : [];
    ports.forEach((port, i) => {
      const name = `n${i + 1}`;
      c.nodes.push({
        name,
        port,
        gossipPort: gossipPorts[i] ?? 0,
        url: `${opts.scheme ?? "http"}://127.0.0.1:${port}`,
        dataDir: join(opts.baseDir, name),
        proc: undefined,
        log: "",
      });
    });
    for (const n of c.nodes) c.spawn(n);
    return c;
  }

  /** Starts one more node that joins the running cluster through every existing node's address. */
  async addNode(): Promise<ClusterNode> {
    const [port] = await freePorts(1);
    const name = `n${this.nodes.length + 1}`;
    const [gossipPort] = this.opts.gossip ? await freePorts(1) : [0];
    const n: ClusterNode = {
      name,
      port: port!,
      gossipPort: gossipPort!,
      url: `${this.opts.scheme ?? "http"}://127.0.0.1:${port}`,
      dataDir: join(this.opts.baseDir, name),
      proc: undefined,
      log: "",
    };
    this.nodes.push(n);
    this.spawn(n);
    return n;
  }

  /** (Re)starts one node's process on its data dir. */
  spawn(n: ClusterNode): void {
    const peers = this.nodes.filter((x) => x !== n).flatMap((x) => ["--join", `127.0.0.1:${x.port}`]);
    const args = [
      ...(this.opts.nodeArgs ?? []),
      BIN,
      "agent",
      "--server",
      "--bootstrap-expect",
      String(this.opts.size),
      "--node-name",
      n.name,
      "--http-addr",
      `127.0.0.1:${n.port}`,
      "--data-dir",
      n.dataDir,
      ...peers,
      ...(this.opts.secret === "" ? [] : ["--cluster-secret", this.opts.secret ?? "test-secret"]),
      "--raft-profile",
      this.opts.profile ?? "fast",
      "--log-level",
      "warn",
      ...(this.opts.auth ? [] : ["--insecure-no-auth"]),
      ...(this.opts.gossip
        ? [
            "--gossip-bind",
            `127.0.0.1:${n.gossipPort}`,
            ...this.nodes
              .filter((x) => x !== n)
              .flatMap((x) => ["--gossip-join", `127.0.0.1:${x.gossipPort}`]),
          ]
        : []),
      ...(this.opts.extraArgs ?? []),
    ];
    const proc = spawn(process.execPath, args, {
      env: { ...process.env, ...this.opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const append = (d: Buffer) => {
      n.log = (n.log + String(d)).slice(-200_000);
    };
    proc.stdout!.on("data", append);
    proc.stderr!.on("data", append);
    n.proc = proc;
  }

  /** SIGKILLs a node and waits for it to exit. */
  async kill(n: ClusterNode): Promise<void> {
    const p = n.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGKILL");
    await exited;
  }

  /**
   * Waits for a node's process to exit on its own and returns its exit code; fails with the node's
   * last log lines if it is still running after timeoutMs.
   */
  async waitForExit(n: ClusterNode, timeoutMs = 30_000): Promise<number | null> {
    const p = n.proc;
    if (!p) throw new Error(`${n.name} was never started`);
    if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${n.name} still running after ${timeoutMs} ms\n${n.log.slice(-4000)}`)),
        timeoutMs,
      );
    });
    const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
    try {
      return await Promise.race([exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal (SIGSTOP / SIGCONT / SIGTERM). */
  signal(n: ClusterNode, sig: NodeJS.Signals): void {
    n.proc?.kill(sig);
  }

  /** With `auth`: the admin token the first leader wrote to its data dir, once one has. */
  async adminToken(timeoutMs = 30_000): Promise<string> {
    if (this.token) return this.token;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const n of this.nodes) {
        const file = join(n.dataDir, "admin-token");
        if (existsSync(file)) {
          this.token = readFileSync(file, "utf8").trim();
          return this.token;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no admin-token in any data dir within ${timeoutMs} ms`);
  }
  /** The admin token once adminToken() found it; sent by leader() and friends. */
  token = "";

  /** The node every live node agrees leads, or undefined. */
  async leader(among: ClusterNode[] = this.nodes): Promise<ClusterNode | undefined> {
    if (this.opts.auth && !this.token) await this.adminToken();
    const names = new Set<string>();
    for (const n of among) {
      const st = await getJson<{ raft: { state: string; leader: string } }>(`${n.url}/v1/`, 2000, this.token);
      if (st?.raft.leader) names.add(st.raft.leader);
    }
    if (names.size !== 1) return undefined;
    const [name] = [...names];
    const node = this.nodes.find((n) => n.name === name);
    const st = node
      ? await getJson<{ raft: { state: string } }>(`${node.url}/v1/`, 2000, this.token)
      : undefined;
    return st?.raft.state === "leader" ? node : undefined;
  }

  /** Waits until one leader is agreed. */
  async waitForLeader(timeoutMs = 30_000, among?: ClusterNode[]): Promise<ClusterNode> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const l = await this.leader(among ?? this.alive());
      if (l) return l;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `no leader within ${timeoutMs} ms\n${this.nodes.map((n) => `--- ${n.name}\n${n.log.slice(-3000)}`).join("\n")}`,
    );
  }

  /** Nodes whose process is running. */
  alive(): ClusterNode[] {
    return this.nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  }

  /** Kills every node. */
  async stop(): Promise<void> {
    for (const n of this.nodes) {
      this.signal(n, "SIGCONT");
      await this.kill(n);
    }
  }
}

/** The three-node cluster the runner tests start: fast Raft profile, gossip on, `extraArgs` given to every node. */
export function startGossipCluster(baseDir: string, extraArgs: string[] = []): Promise<TestCluster> {
  return TestCluster.start({ size: 3, baseDir, profile: "fast", gossip: true, extraArgs });
}

/** Fields of a job that postManualJob sends in place of (or beside) its defaults. */
export interface ManualJobFields {
  executor_config?: Record<string, string>;
  tags?: Record<string, string>;
}

/** POST /v1/jobs of a small `@manually` shell job named `name` (command `true` unless `fields` say) through the node at `url`. */
export function postManualJob(url: string, name: string, fields: ManualJobFields = {}): Promise<Response> {
  return fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name,
      schedule: "@manually",
      executor: "shell",
      executor_config: { command: "true" },
      ...fields,
    }),
  });
}

/** GET a JSON document, or undefined on any failure. */
export async function getJson<T>(url: string, timeoutMs = 2000, token = ""): Promise<T | undefined> {
  try {
    const r = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}
