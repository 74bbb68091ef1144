import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../test/helpers/tmp";
import { AGENT_OPTIONS, envName, flagName, NON_OPTION_ENV } from "./agent-options";
import { closestName } from "./closest-name";
import { AGENT_HELP, AgentConfigSchema, loadAgentConfig, redacted } from "./config";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("agent config", () => {
  it("reads Dkron's flags with defaults", () => {
    const { config } = loadAgentConfig(
      [
        "--server",
        "--bootstrap-expect",
        "1",
        "--node-name",
        "n1",
        "--data-dir",
        "/d",
        "--http-addr",
        "127.0.0.1:9",
        "--tags",
        "a=1",
        "--tag",
        "b=x=y",
      ],
      {},
    );
    expect(config).toMatchObject({
      server: true,
      bootstrap_expect: 1,
      node_name: "n1",
      data_dir: "/d",
      http_addr: "127.0.0.1:9",
      tags: { a: "1", b: "x=y" },
    });
    expect(config.execution_retention).toBe(100);
    expect(config.shutdown_grace).toBe(30_000);
  });

  it("flags win over env, env over the file", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "dkron.json");
    writeFileSync(
      file,
      JSON.stringify({
        server: true,
        "node-name": "from-file",
        data_dir: "/file",
        execution_retention: 7,
        tags: { z: "1" },
      }),
    );
    const { config } = loadAgentConfig(["--config", file, "--data-dir", "/flag"], {
      DKRON_NODE_NAME: "from-env",
      DKRON_LEASE_TIMEOUT: "1m",
    });
    expect(config.node_name).toBe("from-env");
    expect(config.data_dir).toBe("/flag");
    expect(config.execution_retention).toBe(7);
    expect(config.lease_timeout).toBe(60_000);
    expect(config.tags).toEqual({ z: "1" });
  });

  it("rejects bad values naming the option", () => {
    const bad: [string[], Record<string, string>, RegExp][] = [
      [["--server", "--http-addr", "localhost"], {}, /http_addr: expected HOST:PORT/],
      [["--server", "--bootstrap-expect", "x"], {}, /--bootstrap-expect: expected a whole number/],
      [["--server", "--tags", "novalue"], {}, /--tags: expected key=value/],
      [["--server", "--shutdown-grace", "soon"], {}, /shutdown_grace: expected a duration/],
      [["--server"], { DKRON_LOCAL_RUNNER: "maybe" }, /DKRON_LOCAL_RUNNER: expected true or false/],
      [["--server", "--nope"], {}, /Unknown option '--nope'/],
      [[], {}, /server: this build runs control nodes only/],
      [
        ["--server", "--heartbeat", "20s", "--lease-timeout", "30s"],
        {},
        /lease_timeout: must be at least three heartbeats/,
      ],
    ];
    for (const [argv, env, re] of bad) expect(() => loadAgentConfig(argv, env)).toThrow(re);
  });

  it("takes --insecure-no-auth as a bare flag on loopback only, and keeps auth on by default", () => {
    expect(loadAgentConfig(["--server"], {}).config.insecure_no_auth).toBe(false);
    expect(loadAgentConfig(["--server", "--insecure-no-auth"], {}).config.insecure_no_auth).toBe(true);
    expect(
      loadAgentConfig(["--server", "--insecure-no-auth", "--http-addr", "[::1]:8080"], {}).config
        .insecure_no_auth,
    ).toBe(true);
    for (const addr of ["0.0.0.0:8080", ":8080", "10.0.0.1:8080"])
      expect(() => loadAgentConfig(["--server", "--insecure-no-auth", "--http-addr", addr], {})).toThrow(
        /insecure_no_auth: is refused on .*: an API without tokens may only listen on loopback/,
      );
    expect(loadAgentConfig(["--server"], {}).config.audit_retention).toBe(90 * 86_400_000);
    expect(loadAgentConfig(["--server", "--audit-retention", "24h"], {}).config.audit_retention).toBe(
      86_400_000,
    );
  });

  it("refuses a cluster beyond loopback without --cluster-secret, in one line naming the flag", () => {
    const cluster = ["--server", "--bootstrap-expect", "3", "--join", "10.0.0.2:8080"];
    expect(() => loadAgentConfig([...cluster, "--http-addr", "10.0.0.1:8080"], {})).toThrow(
      /^config: cluster_secret: is required to form or join a cluster beyond loopback \(10\.0\.0\.1:8080\): pass the same --cluster-secret/,
    );
    // Every interface is not loopback either; nor is a joined peer elsewhere.
    expect(() => loadAgentConfig([...cluster, "--http-addr", ":8080"], {})).toThrow(
      /cluster_secret: is required/,
    );
    expect(() =>
      loadAgentConfig(["--server", "--join", "db1.internal:8080", "--http-addr", "127.0.0.1:8080"], {}),
    ).toThrow(/beyond loopback \(db1\.internal:8080\)/);
    // With a secret it starts; on loopback it starts without one (the node warns).
    expect(
      loadAgentConfig([...cluster, "--http-addr", "10.0.0.1:8080", "--cluster-secret", "s"], {}).config.join,
    ).toEqual(["10.0.0.2:8080"]);
    const local = [
      "--server",
      "--bootstrap-expect",
      "3",
      "--join",
      "127.0.0.1:8081",
      "--join",
      "localhost:8082",
    ];
    expect(loadAgentConfig([...local, "--http-addr", "127.0.0.1:8080"], {}).config.cluster_secret).toBe("");
    // A lone node needs no secret wherever it listens.
    expect(loadAgentConfig(["--server", "--http-addr", "0.0.0.0:8080"], {}).config.cluster_secret).toBe("");
  });

  it("reports --help without validating", () => {
    expect(loadAgentConfig(["--help"], {}).help).toBe(true);
  });

  it("stops on a config-file key that names no option, suggesting the closest", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "dkron.json");
    writeFileSync(file, JSON.stringify({ server: true, http_adr: "127.0.0.1:9" }));
    expect(() => loadAgentConfig(["--config", file], {})).toThrow(
      `config file ${file}: unknown option "http_adr" (did you mean "http_addr"?)`,
    );
    writeFileSync(file, JSON.stringify({ server: true, "data-dri": "/d", frobnicate: 1 }));
    expect(() => loadAgentConfig([], { DKRON_CONFIG: file })).toThrow(
      `config file ${file}: unknown option "data-dri" (did you mean "data_dir"?); unknown option "frobnicate"`,
    );
  });

  it("stops on a DKRON_* variable that names no option, but not on the jobs' own", () => {
    expect(() => loadAgentConfig(["--server"], { DKRON_HTTP_ADR: "127.0.0.1:9" })).toThrow(
      'environment: unknown option "DKRON_HTTP_ADR" (did you mean "DKRON_HTTP_ADDR"?)',
    );
    expect(() => loadAgentConfig(["--server"], { DKRON_WHATEVER: "" })).toThrow(
      /^environment: unknown option "DKRON_WHATEVER"$/,
    );
    // Every job's process carries these; an agent started from a job must still start.
    const jobEnv = Object.fromEntries([...NON_OPTION_ENV].map((n) => [n, "x"]));
    expect(jobEnv).toHaveProperty("DKRON_JOB_NAME");
    expect(loadAgentConfig(["--server"], { ...jobEnv, PATH: "/bin", dkron_lower: "1" }).config.server).toBe(
      true,
    );
  });

  it("reads every option from its flag, its env variable and the file", () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, "dkron.json");
    writeFileSync(file, JSON.stringify({ server: true, raft_profile: "fast", "runner-settle": "2s" }));
    const { config } = loadAgentConfig(["--config", file, "--local-runner", "false", "--join", "a:1"], {
      DKRON_SERVER: "1",
      DKRON_JOIN: "b:1,c:1",
      DKRON_TAGS: "k=v",
      DKRON_CLUSTER_SECRET: "s",
    });
    expect(config).toMatchObject({
      raft_profile: "fast",
      runner_settle: 2000,
      local_runner: false,
      join: ["a:1"],
      tags: { k: "v" },
      cluster_secret: "s",
    });
    expect(redacted(config)).toMatchObject({ cluster_secret: "***", runner_token: "" });
  });

  it("derives the schema and --help from the one options table", () => {
    expect(Object.keys(AgentConfigSchema.shape)).toEqual(Object.keys(AGENT_OPTIONS));
    for (const [key, o] of Object.entries(AGENT_OPTIONS)) {
      const line = AGENT_HELP.split("\n").find((l) => l.startsWith(`  --${flagName(key)} `)) ?? "";
      expect(line, key).not.toBe("");
      const entry = AGENT_HELP.slice(AGENT_HELP.indexOf(line))
        .split(/\n(?= {2}-)/)[0]!
        .replace(/\s+/g, " ");
      expect(entry, key).toContain(o.doc);
      if (o.default !== undefined && o.kind !== "switch" && typeof o.default !== "object")
        expect(entry, key).toMatch(/\(default: [^)]+\)/);
      expect(envName(key)).toMatch(/^DKRON_[A-Z_]+$/);
    }
    expect(AGENT_HELP).toContain("(default: 30s)");
    expect(AGENT_HELP).toContain("--config FILE");
    expect(AGENT_HELP).toContain("-h, --help");
  });

  it("suggests a name only when it is a plausible typo", () => {
    expect(closestName("http_adr", ["http_addr", "data_dir"])).toBe("http_addr");
    expect(closestName("frobnicate", ["http_addr", "data_dir"])).toBeUndefined();
  });
});
