import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTROLS_FILE, controlOrder, controlsFileText, readControls, runnerWsUrl } from "./control-urls";

describe("control URLs a runner reconnects through", () => {
  it("tries the saved control URL first, then each other node once", () => {
    expect(
      controlOrder("http://10.0.0.2:8080", [
        "http://10.0.0.1:8080",
        "http://10.0.0.2:8080/",
        "not a url",
        "http://10.0.0.3:8080",
      ]),
    ).toEqual(["http://10.0.0.2:8080", "http://10.0.0.1:8080", "http://10.0.0.3:8080"]);
    expect(runnerWsUrl("https://n1.example:8443")).toBe("wss://n1.example:8443/_runner/ws");
  });

  it("reads what it saved; a missing or damaged file is no list, not an error", () => {
    const dir = mkdtempSync(join(tmpdir(), "dkron-controls-"));
    try {
      expect(readControls(dir)).toEqual([]);
      writeFileSync(join(dir, CONTROLS_FILE), controlsFileText(["http://a:1", "http://b:2"]));
      expect(readControls(dir)).toEqual(["http://a:1", "http://b:2"]);
      writeFileSync(join(dir, CONTROLS_FILE), "{");
      expect(readControls(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
