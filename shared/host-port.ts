/**
 * Splits `host:port` into host and port: `[v6]:port` loses its brackets, a missing or non-numeric
 * port is 0. The port is after the last colon, so an URL (`https://h:8080`) splits as before; an IPv6
 * host must be bracketed, as in the HTTP addresses the agent accepts.
 */
export function splitHostPort(addr: string): [host: string, port: number] {
  if (addr.startsWith("[")) {
    const end = addr.indexOf("]");
    if (end > 0) {
      const rest = addr.slice(end + 1);
      return [addr.slice(1, end), rest.startsWith(":") ? portOf(rest.slice(1)) : 0];
    }
  }
  const i = addr.lastIndexOf(":");
  return i < 0 ? [addr, 0] : [addr.slice(0, i), portOf(addr.slice(i + 1))];
}

function portOf(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : 0;
}

/** A base URL for a node's address: an URL as it is, a host:port over `scheme` (http by default). */
export function nodeUrl(addr: string, scheme: "http" | "https" = "http"): string {
  return addr.includes("://") ? addr : `${scheme}://${addr}`;
}

/**
 * True when `host` can only be reached from this machine: `localhost`, 127.0.0.0/8 or `::1`. An empty
 * host (`:8080`, every interface) is not.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
