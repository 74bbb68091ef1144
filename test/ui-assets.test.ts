import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { UPLOT_MODULE_PATH, uplotModule } from "../scripts/gen-ui-assets";

describe("the dashboard's vendored uPlot", () => {
  it("is the installed uplot package's build (regenerate with scripts/gen-ui-assets.ts)", () => {
    expect(readFileSync(UPLOT_MODULE_PATH, "utf8") === uplotModule()).toBe(true);
  });
});
