import type { Clock, Logger } from "../../shared";
import { splitHostPort } from "../../shared";
import type { GossipConfigInput } from "./config";
import { cryptoSeededRandom, Gossip } from "./gossip";
import { Keyring } from "./keyring";
import type { MemberView } from "./membership";
import type { MemberMeta } from "./messages";
import { bindUdp } from "./udp-transport";

/** How a process (a control node or a runner) takes part in the gossip pool. */
export interface PoolMemberOptions {
  name: string;
  /** "host:port" to bind; host "0.0.0.0" advertises `advertiseHost` instead. */
  bind: string;
  /** Whether `bind` was given by the operator: a default port that is taken falls back to a free one. */
  bindExplicit: boolean;
  /** "host:port" of any members (`--gossip-join`). */
  join: string[];
  /** Base64 keys, primary first (`--encrypt KEY`); none = plain text. */
  keys: string[];
  config?: GossipConfigInput;
  clock: Clock;
  logger: Logger;
}

/**
 * A Gossip on a real UDP socket with the lifecycle a process needs: bind (falling back to a free
 * port when the default one is taken, so several nodes on one host still start), start, leave on a
 * graceful stop. Control nodes (control/main.ts) and runners build one.
 */
export class PoolMember {
  private gossip: Gossip | undefined;
  /** The meta as the process last set it (the keys' fingerprints are added to what is gossiped). */
  private meta: MemberMeta | undefined;
  /** The keyring datagrams are sealed with (undefined when the pool is plain text). */
  readonly keyring: Keyring | undefined;

  constructor(private readonly opts: PoolMemberOptions) {
    this.keyring = opts.keys.length > 0 ? new Keyring(opts.keys) : undefined;
  }

  /**
   * Binds the socket and starts probing and joining, as `meta` says; `advertiseHost` is the host
   * others reach this member at when it binds a wildcard address.
   */
  async start(meta: MemberMeta, advertiseHost?: string): Promise<void> {
    const o = this.opts;
    const [host, port] = splitHostPort(o.bind);
    const transport = await bindUdp(host, port).catch(async (e: unknown) => {
      if (o.bindExplicit || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
      o.logger.warn("default gossip port is taken; binding a free one", { bind: o.bind });
      return bindUdp(host, 0);
    });
    const wildcard = host === "0.0.0.0" || host === "::" || host === "";
    const advertise = {
      addr: wildcard ? (advertiseHost ?? "127.0.0.1") : transport.local.host,
      port: transport.local.port,
    };
    this.meta = meta;
    this.gossip = Gossip.create(
      {
        name: o.name,
        advertise,
        meta: this.withKeys(meta),
        join: o.join,
        ...(o.config ? { config: o.config } : {}),
      },
      {
        clock: o.clock,
        random: cryptoSeededRandom(),
        transport,
        ...(this.keyring ? { keyring: this.keyring } : {}),
        logger: o.logger,
      },
    );
    this.gossip.start();
  }

  /** "host:port" others reach this member's gossip at ("" before start). */
  get address(): string {
    const self = this.gossip?.members().find((m) => m.name === this.opts.name);
    return self ? `${self.addr}:${self.port}` : "";
  }

  /** The running shell (undefined before start). */
  get shell(): Gossip | undefined {
    return this.gossip;
  }

  /** Every known member, this one included (empty before start). */
  members(): MemberView[] {
    return this.gossip?.members() ?? [];
  }

  /** Changes this member's tags; the pool hears it as an update. */
  setMeta(meta: MemberMeta): void {
    this.meta = meta;
    this.gossip?.setMeta(this.withKeys(meta));
  }

  /**
   * Re-keys this member with the replicated keyring (primary first): from the next datagram it
   * encrypts with the new primary and opens datagrams sealed with any of `keys`, and the pool hears
   * the new fingerprints in its meta. Returns false (and changes nothing) on a plain-text member:
   * turning encryption on needs a restart with --encrypt, or it would partition the pool.
   */
  setKeys(keys: readonly string[]): boolean {
    if (!this.keyring) {
      this.opts.logger.warn("gossip keyring update ignored: this member runs without --encrypt", {
        member: this.opts.name,
      });
      return false;
    }
    const before = this.keyring.fingerprints().join();
    this.keyring.replace(keys);
    const after = this.keyring.fingerprints();
    if (after.join() === before) return true;
    this.opts.logger.info("gossip keyring changed", { member: this.opts.name, keys: after });
    if (this.meta) this.gossip?.setMeta(this.withKeys(this.meta));
    return true;
  }

  /** `meta` with the fingerprints of the keys held (unchanged on a plain-text member). */
  private withKeys(meta: MemberMeta): MemberMeta {
    const { keys: _ignored, ...rest } = meta;
    return this.keyring ? { ...rest, keys: this.keyring.fingerprints() } : rest;
  }

  /** Leaves gracefully (the pool lists this member `left`, not failed), then closes the socket. */
  async leave(): Promise<void> {
    await this.gossip?.leave();
  }

  /** Closes the socket without a leave (a crash, to the pool). */
  async stop(): Promise<void> {
    await this.gossip?.stop();
  }
}
