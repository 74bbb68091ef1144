import type { DatagramTransport, Random } from "../../runner/gossip";
import type { Clock } from "../../shared/clock";

/**
 * Datagram sockets in memory on one Clock (a FakeClock in tests): each datagram is delivered after
 * `delayMs` unless the seeded random drops it (`dropRate`) or a link is cut. Lets the real Gossip
 * shell (with its keyring) run on virtual time.
 */
export class MemoryDatagramNetwork {
  dropRate = 0;
  delayMs = 2;
  private readonly sockets = new Map<string, (data: Uint8Array, from: string) => void>();
  private readonly cut = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /** A socket at host:port. */
  bind(host: string, port: number): DatagramTransport {
    const self = `${host}:${port}`;
    let handler: (data: Uint8Array, from: string) => void = () => {};
    this.sockets.set(self, (d, f) => handler(d, f));
    return {
      local: { host, port },
      send: (to, data) => {
        if (!this.sockets.has(self) || this.cut.has(`${self}>${to}`)) return;
        if (this.random.next() < this.dropRate) return;
        const copy = Uint8Array.from(data);
        this.clock.setTimeout(() => this.sockets.get(to)?.(copy, self), this.delayMs);
      },
      onMessage: (fn) => {
        handler = fn;
      },
      close: async () => {
        this.sockets.delete(self);
      },
    };
  }
}
