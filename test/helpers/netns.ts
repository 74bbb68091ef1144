/**
 * A small lab of Linux network namespaces for tests that need real packet loss between processes
 * (this kernel has no `tc netem`): one namespace holding a bridge, and one namespace per host, each
 * wired to the bridge by a veth pair and given 10.77.0.<i+1>/24. Every host namespace has its own
 * nftables table whose input chain jumps to two chains the test rewrites: `loss` (drop N% of UDP,
 * `numgen random mod 100 < N`) and `part` (drop everything from the other side of a partition).
 * Nothing is created in the caller's own namespace, so destroying the namespaces removes every veth,
 * the bridge and the tables with them. Needs root, `ip` (iproute2) and `nft` (nftables).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";

/** Whether this process may build a lab, and if not why (for a skip message). */
export function netnsSupport(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: `needs Linux, not ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "needs root (ip netns and nft)" };
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    ["nft", "nftables"],
  ] as const)
    if (spawnSync(tool, ["-V"], { stdio: "ignore" }).error)
      return { ok: false, reason: `needs \`${tool}\` (apt-get install ${pkg})` };
  // The sandbox may forbid namespaces or netfilter even to root: try both once.
  const ns = `dkprobe${randomBytes(3).toString("hex")}`;
  try {
    run("ip", ["netns", "add", ns]);
    run("ip", ["netns", "exec", ns, "nft", "add", "table", "inet", "probe"]);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `network namespaces or nftables refused here: ${firstLine(e)}` };
  } finally {
    spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  }
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: Buffer; message?: string };
  return (err.stderr?.toString() || err.message || String(e)).trim().split("\n")[0] ?? "";
}

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { stdio: ["pipe", "ignore", "pipe"], ...(input ? { input } : {}) });
}

const TABLE = "dkrontest";

/** Hosts in namespaces on one bridge, with per-host loss and partitions. */
export class NetnsLab {
  /** Namespace names: the bridge's, then one per host. */
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly onExit = () => this.destroySync();

  private constructor(
    private readonly prefix: string,
    private readonly size: number,
  ) {}

  /** Builds `size` hosts (unique namespace names, so parallel or leftover runs never collide). */
  static create(size: number): NetnsLab {
    if (size < 1 || size > 250) throw new Error(`a lab has 1-250 hosts, not ${size}`);
    const lab = new NetnsLab(`dkt${randomBytes(3).toString("hex")}`, size);
    process.once("exit", lab.onExit);
    try {
      lab.build();
    } catch (e) {
      lab.destroySync();
      throw e;
    }
    return lab;
  }

  /** The address of host i (0-based). */
  ip(i: number): string {
    return `10.77.0.${i + 1}`;
  }

  /** The namespace of host i. */
  ns(i: number): string {
    return `${this.prefix}-h${i}`;
  }

  private build(): void {
    const br = `${this.prefix}-br`;
    run("ip", ["netns", "add", br]);
    this.namespaces.push(br);
    run("ip", ["-n", br, "link", "add", "br0", "type", "bridge"]);
    run("ip", ["-n", br, "link", "set", "br0", "up"]);
    for (let i = 0; i < this.size; i++) {
      const ns = this.ns(i);
      run("ip", ["netns", "add", ns]);
      this.namespaces.push(ns);
      // Both ends are born in namespaces of ours: the host's end moves into its namespace as eth0.
      run("ip", ["-n", br, "link", "add", `v${i}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
      run("ip", ["-n", br, "link", "set", `v${i}`, "master", "br0"]);
      run("ip", ["-n", br, "link", "set", `v${i}`, "up"]);
      run("ip", ["-n", ns, "addr", "add", `${this.ip(i)}/24`, "dev", "eth0"]);
      run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
      run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      this.nft(
        i,
        [
          `table inet ${TABLE} {`,
          "  chain part { }",
          "  chain loss { }",
          "  chain input { type filter hook input priority 0; policy accept; jump part; jump loss; }",
          "}",
        ].join("\n"),
      );
    }
  }

  private nft(i: number, script: string): void {
    run("ip", ["netns", "exec", this.ns(i), "nft", "-f", "-"], `${script}\n`);
  }

  /** Every host drops `percent`% of the UDP datagrams it receives (0 = none). */
  setLoss(percent: number): void {
    for (let i = 0; i < this.size; i++)
      this.nft(
        i,
        [
          `flush chain inet ${TABLE} loss`,
          ...(percent > 0
            ? [`add rule inet ${TABLE} loss meta l4proto udp numgen random mod 100 < ${percent} drop`]
            : []),
        ].join("\n"),
      );
  }

  /** Hosts in `a` and hosts in `b` stop hearing each other (each drops what the other side sends). */
  partition(a: number[], b: number[]): void {
    const set = (xs: number[]) => `{ ${xs.map((x) => this.ip(x)).join(", ")} }`;
    for (const [side, other] of [
      [a, b],
      [b, a],
    ] as const)
      for (const i of side)
        this.nft(
          i,
          [`flush chain inet ${TABLE} part`, `add rule inet ${TABLE} part ip saddr ${set(other)} drop`].join(
            "\n",
          ),
        );
  }

  /** Removes every partition rule. */
  heal(): void {
    for (let i = 0; i < this.size; i++) this.nft(i, `flush chain inet ${TABLE} part`);
  }

  /** Starts `argv` inside host i's namespace, in its own process group (killed by destroy()). */
  spawn(i: number, argv: string[]): ChildProcess {
    // `ip netns exec` execs the command, so the child's pid is the command's and its group ours to kill.
    const p = spawn("ip", ["netns", "exec", this.ns(i), ...argv], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.procs.push(p);
    return p;
  }

  /** SIGKILLs a process group started by spawn(). */
  kill(p: ChildProcess): void {
    try {
      process.kill(-(p.pid as number), "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** Namespaces of this lab that still exist (empty after destroy()). */
  leftovers(): string[] {
    const listed = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    return listed
      .split("\n")
      .map((l) => l.split(" ")[0] ?? "")
      .filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Kills every process, then deletes every namespace (with them their veths, bridge and tables). */
  destroy(): void {
    this.destroySync();
  }

  private destroySync(): void {
    process.off("exit", this.onExit);
    for (const p of this.procs) this.kill(p);
    this.procs.length = 0;
    for (const ns of this.namespaces.splice(0).reverse())
      spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  }
}
