import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { splitHostPort } from "../shared";
import { META_MAX_BYTES, type MemberMeta, parseGossipKey, startKeys } from "./gossip";

/** The data dir's gossip settings, written by `join` and read by `start` (mode 0600). */
export const GOSSIP_FILE = "gossip.json";
/** Where a runner binds its gossip socket without --gossip-bind (memberlist's port). */
export const DEFAULT_GOSSIP_BIND = "0.0.0.0:7946";

const hostPort = z
  .string()
  .min(3)
  .max(262)
  .refine((v) => splitHostPort(v)[1] > 0, "must be host:port");

/** A bind address: host:port where port 0 asks for a free one. */
const bindAddr = z
  .string()
  .min(3)
  .max(262)
  .regex(/:\d{1,5}$/, "must be host:port");

/** What gossip.json holds. */
export const GossipSettingsSchema = z.strictObject({
  version: z.literal(1),
  /** --gossip-bind as given; absent: DEFAULT_GOSSIP_BIND, or a free port when that one is taken. */
  bind: bindAddr.optional(),
  /** --gossip-advertise as given; absent: the address this host reaches the control nodes from. */
  advertise: hostPort.optional(),
  /** --gossip-join as given: the operator's seeds, used before the learned ones. */
  join: z.array(hostPort).default([]),
  /** The control nodes' gossip addresses, as the join answer and the leader's welcomes said. */
  seeds: z.array(hostPort).default([]),
});
/** Saved gossip settings. */
export type GossipSettings = z.output<typeof GossipSettingsSchema>;

/** The gossip flags of `join` and `start` (undefined or empty: not given). */
export interface GossipFlags {
  bind?: string | undefined;
  advertise?: string | undefined;
  join?: string[] | undefined;
  encrypt?: string[] | undefined;
}

/** How the runner takes part in the pool this run: resolved once from the flags and the data dir. */
export interface GossipPlan {
  bind: string;
  /** Whether `bind` came from the operator (a taken default port falls back to a free one; an explicit one fails). */
  bindExplicit: boolean;
  advertise?: string;
  /** The operator's seeds (--gossip-join), else the learned control nodes' addresses. */
  join: string[];
  /** Base64 keys, primary first; empty: plain text. */
  keys: string[];
}

/** A flag's value that is not host:port; one line for the CLI. */
export class GossipFlagError extends Error {}

function checkHostPort(flag: string, v: string, schema: z.ZodType = hostPort): string {
  if (!schema.safeParse(v).success) throw new GossipFlagError(`${flag}: "${v}" is not host:port`);
  return v;
}

/** Checks the flags: host:port addresses, 32-byte base64 keys; throws a GossipFlagError naming the flag. */
export function checkGossipFlags(f: GossipFlags): void {
  if (f.bind !== undefined) checkHostPort("--gossip-bind", f.bind, bindAddr);
  if (f.advertise !== undefined) checkHostPort("--gossip-advertise", f.advertise);
  for (const j of f.join ?? []) checkHostPort("--gossip-join", j);
  for (const k of f.encrypt ?? [])
    try {
      parseGossipKey(k);
    } catch (e) {
      throw new GossipFlagError(`--encrypt: ${(e as Error).message}`);
    }
}

/** What `join` saves: the flags given, and the control nodes' gossip addresses from the join answer. */
export function settingsFromJoin(f: GossipFlags, seeds: readonly string[] | undefined): GossipSettings {
  return {
    version: 1,
    ...(f.bind ? { bind: f.bind } : {}),
    ...(f.advertise ? { advertise: f.advertise } : {}),
    join: f.join ?? [],
    seeds: (seeds ?? []).filter((s) => hostPort.safeParse(s).success),
  };
}

/**
 * The plan for this run: flags given to this command win over the saved settings; `keys` are the
 * keys it starts with, already resolved (gossip's startKeys: the saved keyring over --encrypt).
 */
export function planGossip(saved: GossipSettings, keys: string[], f: GossipFlags): GossipPlan {
  const bind = f.bind ?? saved.bind;
  const advertise = f.advertise ?? saved.advertise;
  const join = f.join?.length ? f.join : saved.join;
  return {
    bind: bind ?? DEFAULT_GOSSIP_BIND,
    bindExplicit: bind !== undefined,
    ...(advertise ? { advertise } : {}),
    join: join.length ? join : saved.seeds,
    keys,
  };
}

/**
 * The runner's gossip meta: role, version and as many of its tags as fit memberlist's 512-byte
 * meta (the leader targets by the tags of the stream's hello, so a tag left out here only hides it
 * from /v1/members). Returns the meta and the keys left out.
 */
export function runnerMeta(
  version: string,
  tags: Record<string, string>,
): { meta: MemberMeta; dropped: string[] } {
  const meta: MemberMeta = { role: "runner", version, tags: {} };
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    meta.tags[k] = v;
    if (Buffer.byteLength(JSON.stringify(meta), "utf8") > META_MAX_BYTES) {
      delete meta.tags[k];
      dropped.push(k);
    }
  }
  return { meta, dropped };
}

/** Reads gossip.json of a data dir; a missing file is empty settings (a data dir from before gossip). */
export function readGossipSettings(dataDir: string): GossipSettings {
  return readJson(join(dataDir, GOSSIP_FILE), GossipSettingsSchema, { version: 1 });
}

/**
 * The keys this run starts with (the saved keyring over --encrypt, see gossip's startKeys); a
 * keyring.json that cannot be read is a GossipFlagError naming the file.
 */
export function runnerStartKeys(dataDir: string, f: GossipFlags): string[] {
  try {
    return startKeys(dataDir, f.encrypt ?? []);
  } catch (e) {
    throw new GossipFlagError((e as Error).message);
  }
}

function readJson<S extends z.ZodType>(path: string, schema: S, absent: z.input<S>): z.output<S> {
  let raw: unknown = absent;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new GossipFlagError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new GossipFlagError(`${path}: ${r.error.issues[0]?.message}`);
  return r.data;
}
