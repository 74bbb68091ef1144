import { describe, expect, it } from "vitest";
import { openStateDb } from "../store/db";
import { audit } from "../store/schema";
import { listAudit } from "./audit-list";

describe("listAudit", () => {
  it("pages from _start without an _end (fuzz finding: ?_start=1 was a 500, OFFSET without LIMIT)", () => {
    const s = openStateDb(":memory:");
    try {
      for (const index of [1, 2, 3]) {
        s.db
          .insert(audit)
          .values({
            index,
            seq: 0,
            at: index * 1000,
            tokenId: "t",
            tokenName: "admin",
            action: "jobs.put",
            target: `j${index}`,
            client: "",
            outcome: "ok",
            detail: "",
          })
          .run();
      }
      const page = (start: number, end?: number) =>
        listAudit(s, { start, ...(end === undefined ? {} : { end }) }).items.map((e) => e.target);
      expect(page(1)).toEqual(["j2", "j1"]);
      expect(page(0)).toEqual(["j3", "j2", "j1"]);
      expect(page(1, 2)).toEqual(["j2"]);
      expect(listAudit(s, { start: 5 })).toEqual({ total: 3, items: [] });
    } finally {
      s.close();
    }
  });
});
