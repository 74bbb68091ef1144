/** Splits `host:port` (or `[v6]:port`) into the host without brackets and the port number. */
export function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i).replace(/^\[|\]$/g, ""), Number(addr.slice(i + 1))];
}
