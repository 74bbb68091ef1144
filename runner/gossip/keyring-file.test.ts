import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, systemClock } from "../../shared";
import { tempDir } from "../../test/helpers/tmp";
import { generateGossipKey } from "./keyring";
import { followKeyring, KEYRING_FILE, readKeyringFile, startKeys, writeKeyringFile } from "./keyring-file";
import { PoolMember } from "./pool-member";

const silent = createLogger({ level: "error", write: () => {} });

describe("a runner's keyring.json", () => {
  const dirs: (() => void)[] = [];
  afterEach(() => {
    for (const c of dirs.splice(0)) c();
  });
  const dir = () => {
    const d = tempDir("dkron-keyring-");
    dirs.push(d.cleanup);
    return d.path;
  };
  const [a, b] = [generateGossipKey(), generateGossipKey()];

  it("is a JSON array, primary first, readable by its owner only", () => {
    const d = dir();
    writeKeyringFile(d, [b, a]);
    expect(readKeyringFile(d)).toEqual([b, a]);
    expect(statSync(join(d, KEYRING_FILE)).mode & 0o777).toBe(0o600);
  });

  it("wins over --encrypt at start, so a runner restarted after a rotation still talks", () => {
    const d = dir();
    expect(startKeys(d, [a])).toEqual([a]);
    writeKeyringFile(d, [b]);
    expect(startKeys(d, [a])).toEqual([b]);
    expect(startKeys(d, [])).toEqual([b]);
    expect(startKeys(undefined, [a])).toEqual([a]);
  });

  it("names the file when it is not a keyring", () => {
    const d = dir();
    writeFileSync(join(d, KEYRING_FILE), JSON.stringify(["short"]));
    expect(() => startKeys(d, [a])).toThrow(/keyring\.json is not a gossip keyring: .*32 bytes/);
    writeFileSync(join(d, KEYRING_FILE), "{");
    expect(() => readKeyringFile(d)).toThrow(/cannot read .*keyring\.json/);
  });

  it("follows the leader's keyring frames: re-keys the member, then saves; a plain member saves nothing", () => {
    const member = (keys: string[]) =>
      new PoolMember({
        name: "r1",
        bind: "127.0.0.1:0",
        bindExplicit: true,
        join: [],
        keys,
        clock: systemClock,
        logger: silent,
      });
    const d = dir();
    const encrypted = member([a]);
    followKeyring(encrypted, { dataDir: d, logger: silent })([b, a]);
    expect(encrypted.keyring?.list().keys).toEqual([b, a]);
    expect(readKeyringFile(d)).toEqual([b, a]);
    const plain = dir();
    const open = member([]);
    followKeyring(open, { dataDir: plain, logger: silent })([b]);
    expect(open.keyring).toBeUndefined();
    expect(readKeyringFile(plain)).toBeUndefined();
  });
});
