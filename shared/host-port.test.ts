import { describe, expect, it } from "vitest";
import { splitHostPort } from "./host-port";

describe("splitHostPort", () => {
  it("splits host and port", () => {
    const cases: [string, [string, number]][] = [
      ["127.0.0.1:8080", ["127.0.0.1", 8080]],
      ["node-1.local:0", ["node-1.local", 0]],
      ["0.0.0.0:8946", ["0.0.0.0", 8946]],
      ["[::1]:8080", ["::1", 8080]],
      ["[fe80::1%eth0]:9", ["fe80::1%eth0", 9]],
      ["[::1]", ["::1", 0]],
      ["host", ["host", 0]],
      ["host:", ["host", 0]],
      ["host:http", ["host", 0]],
      [":8080", ["", 8080]],
      ["https://h.example:8443", ["https://h.example", 8443]],
    ];
    for (const [addr, want] of cases) expect(splitHostPort(addr), addr).toEqual(want);
  });
});
