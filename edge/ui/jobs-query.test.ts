import { describe, expect, it } from "vitest";
import { jobsListParams, readJobsQuery } from "./jobs-query";

describe("the jobs list's query string", () => {
  it("maps the filters to one indexed jobs.list page", () => {
    const q = readJobsQuery(
      new URLSearchParams(
        "q=db&status=failed&disabled=false&owner=ops&tag=role%3Dweb&meta=team%3Da&sort=next&order=DESC&page=3",
      ),
    );
    expect(jobsListParams(q)).toEqual({
      sort: "next",
      order: "DESC",
      start: 50,
      end: 75,
      q: "db",
      status: "failed",
      disabled: "false",
      owner: "ops",
      tags: { role: "web" },
      metadata: { team: "a" },
    });
    // Links keep the filters and drop the defaults.
    expect(q.with({ page: 1 })).toBe(
      "q=db&status=failed&disabled=false&owner=ops&tag=role%3Dweb&meta=team%3Da&sort=next&order=DESC",
    );
  });

  it("falls back to defaults for a bad page or sort, and refuses a filter that is not key=value", () => {
    const q = readJobsQuery(new URLSearchParams("page=-4&sort=spec"));
    expect(jobsListParams(q)).toEqual({ sort: "name", order: "ASC", start: 0, end: 25 });
    expect(() => readJobsQuery(new URLSearchParams("tag=web"))).toThrow(/tag: write the filter as key=value/);
  });
});
