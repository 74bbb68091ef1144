import { describe, expect, it } from "vitest";
import { JobInputSchema, jobToJson } from "../../shared";
import { formToJob, formValues, jobFormFields } from "./job-form-fields";

describe("the job form, derived from JobInputSchema", () => {
  const fields = jobFormFields();

  it("has one input per schema field, in the schema's order, of the kind its type asks for", () => {
    expect(fields.map((f) => f.name)).toEqual(Object.keys(JobInputSchema.shape));
    const kind = Object.fromEntries(fields.map((f) => [f.name, f.kind]));
    expect(kind).toMatchObject({
      name: "text",
      schedule: "text",
      disabled: "checkbox",
      retries: "number",
      tags: "map",
      executor_config: "map",
      processors: "json",
      concurrency: "select",
      catchup: "select",
      executor: "select",
    });
    expect(fields.find((f) => f.name === "concurrency")?.options).toEqual(["", "allow", "forbid"]);
    expect(fields.find((f) => f.name === "catchup")?.initial).toBe("latest");
    expect(fields.find((f) => f.name === "dst")?.initial).toBe("auto");
  });

  it("turns a submitted form into the body the schema accepts, and back", () => {
    const form = {
      ...formValues(fields),
      name: "backup",
      schedule: "0 30 2 * * *",
      timezone: "Europe/Berlin",
      executor: "shell",
      executor_config: "command=tar czf /b.tgz /data\nshell=true",
      tags: "role=db:1",
      retries: "2",
      disabled: "true",
    };
    const out = formToJob(fields, form);
    if (!("job" in out)) throw new Error(out.problem.message);
    const spec = JobInputSchema.parse(out.job);
    expect(spec).toMatchObject({
      name: "backup",
      executor_config: { command: "tar czf /b.tgz /data", shell: "true" },
      tags: { role: "db:1" },
      retries: 2,
      disabled: true,
      metadata: null,
      starts_at: null,
    });
    // A stored job shows the same values again in the edit form.
    const job = jobToJson({
      ...spec,
      success_count: 0,
      error_count: 0,
      last_success: null,
      last_error: null,
      skipped_count: 0,
      last_skipped: null,
      status: "",
      next: null,
      dependent_jobs: [],
    });
    const again = formValues(fields, job);
    expect(again.executor_config).toBe("command=tar czf /b.tgz /data\nshell=true");
    expect(again.disabled).toBe("true");
    expect(again.retries).toBe("2");
  });

  it("names the field of a line or JSON it cannot read", () => {
    expect(formToJob(fields, { ...formValues(fields), name: "x", metadata: "team" })).toEqual({
      problem: { field: "metadata", message: 'line 1: write key=value, got "team"' },
    });
    expect(formToJob(fields, { ...formValues(fields), name: "x", processors: "{nope" })).toEqual({
      problem: { field: "processors", message: "is not valid JSON" },
    });
    expect(formToJob(fields, { ...formValues(fields), name: "x", retries: "many" })).toEqual({
      problem: { field: "retries", message: 'must be a number, got "many"' },
    });
  });
});
