import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../test/helpers/tmp";
import { loadAgentConfig } from "./config";

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

  it("reports --help without validating", () => {
    expect(loadAgentConfig(["--help"], {}).help).toBe(true);
  });
});
