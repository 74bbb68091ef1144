import { describe, expect, it } from "vitest";
import { isAppError } from "./errors";
import { parseHttpConfig, parseShellConfig, validateExecutorConfig } from "./executor-config";

/** The AppError a call throws (or a failure naming what came back instead). */
function errorOf(fn: () => unknown): { code: string; message: string; field: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { code: e.code, message: e.message, field: e.details?.field };
  }
  throw new Error("expected a validation error");
}

describe("parseShellConfig", () => {
  it("splits a plain command into argv and wraps a shell command in /bin/sh -c", () => {
    expect(parseShellConfig({ command: "echo 'a b'" }).argv).toEqual(["echo", "a b"]);
    expect(parseShellConfig({ command: "echo $X | wc", shell: "true" }).argv).toEqual([
      "/bin/sh",
      "-c",
      "echo $X | wc",
    ]);
  });

  it("reads Go booleans and Go durations; empty means absent; zero timeout means none", () => {
    const c = parseShellConfig({ command: "x", shell: "False", timeout: "1h30m", cwd: "", env: "" });
    expect(c).toMatchObject({
      shell: false,
      timeoutMs: 5_400_000,
      timeoutText: "1h30m",
      cwd: undefined,
      env: [],
    });
    expect(parseShellConfig({ command: "x", shell: "1", timeout: "500ms" })).toMatchObject({
      shell: true,
      timeoutMs: 500,
    });
    expect(parseShellConfig({ command: "x", timeout: "0s" }).timeoutMs).toBeUndefined();
  });

  it("parses the env comma list; values may contain '=', names are trimmed, blanks skipped", () => {
    expect(parseShellConfig({ command: "x", env: "A=1, B=x=y,,C=" }).env).toEqual([
      ["A", "1"],
      ["B", "x=y"],
      ["C", ""],
    ]);
  });

  it.each([
    [{}, "command", "executor_config.command is required"],
    [{ command: "   " }, "command", "executor_config.command is required"],
    [{ command: "echo a | b" }, "command", "executor_config.command contains the shell operator '|'"],
    [{ command: "echo 'x" }, "command", "executor_config.command has an unterminated single quote"],
    [{ command: "x", timeout: "30" }, "timeout", "executor_config.timeout must be a Go duration"],
    [{ command: "x", timeout: "soon" }, "timeout", "executor_config.timeout must be a Go duration"],
    [{ command: "x", shell: "yes" }, "shell", 'executor_config.shell must be "true" or "false"'],
    [{ command: "x", env: "NOEQUALS" }, "env", "executor_config.env must be a comma list of NAME=value"],
    [{ command: "x", env: "=v" }, "env", "executor_config.env must be a comma list of NAME=value"],
    [{ command: "x", payload: "not base64!" }, "payload", "executor_config.payload must be standard base64"],
    [{ command: "x", su: "nobody" }, "su", "executor_config.su is not supported"],
  ])("rejects %j", (config, key, message) => {
    const e = errorOf(() => parseShellConfig(config as Record<string, string>));
    expect(e.code).toBe("VALIDATION");
    expect(e.field).toBe(`executor_config.${key}`);
    expect(e.message.startsWith(message)).toBe(true);
  });
});

describe("parseHttpConfig", () => {
  const ok = { url: "https://example.com/hook", method: "post" };

  it("applies Dkron's defaults and upper-cases the method", () => {
    expect(parseHttpConfig(ok)).toMatchObject({
      url: "https://example.com/hook",
      method: "POST",
      headers: [],
      body: undefined,
      timeoutSeconds: 30,
      expectCodes: [],
      expectBody: undefined,
      tlsNoVerifyPeer: false,
    });
  });

  it("splits each header on its first colon only", () => {
    const c = parseHttpConfig({ ...ok, headers: '["Authorization: Basic a:b", "X-Url:http://h:1/"]' });
    expect(c.headers).toEqual([
      ["Authorization", "Basic a:b"],
      ["X-Url", "http://h:1/"],
    ]);
  });

  it("parses timeout, expectCode, expectBody and tlsNoVerifyPeer", () => {
    const c = parseHttpConfig({
      ...ok,
      timeout: "5",
      expectCode: "200, 206",
      expectBody: "ok$",
      tlsNoVerifyPeer: "true",
    });
    expect(c).toMatchObject({
      timeoutSeconds: 5,
      expectCodes: [200, 206],
      expectBody: "ok$",
      tlsNoVerifyPeer: true,
    });
  });

  it.each([
    [{ method: "GET" }, "url", "executor_config.url is required"],
    [{ method: "GET", url: "example.com" }, "url", "executor_config.url must be an absolute http"],
    [{ method: "GET", url: "ftp://example.com" }, "url", "executor_config.url must be an absolute http"],
    [{ url: "http://h" }, "method", "executor_config.method is required"],
    [{ url: "http://h", method: "GE T" }, "method", "executor_config.method must be an HTTP method"],
    [{ ...ok, timeout: "1.5" }, "timeout", "executor_config.timeout must be a whole number of seconds"],
    [{ ...ok, timeout: "30s" }, "timeout", "executor_config.timeout must be a whole number of seconds"],
    [{ ...ok, expectCode: "200,abc" }, "expectCode", "executor_config.expectCode must be a comma list"],
    [{ ...ok, expectCode: "1200" }, "expectCode", "executor_config.expectCode must be a comma list"],
    [
      { ...ok, expectBody: "(" },
      "expectBody",
      "executor_config.expectBody is not a valid regular expression",
    ],
    [{ ...ok, headers: "Content-Type: x" }, "headers", "executor_config.headers must be a JSON array"],
    [{ ...ok, headers: '{"a":"b"}' }, "headers", "executor_config.headers must be a JSON array"],
    [{ ...ok, headers: '["NoColon"]' }, "headers", "executor_config.headers must be a JSON array"],
    [{ ...ok, headers: '[": empty name"]' }, "headers", "executor_config.headers must be a JSON array"],
    [
      { ...ok, tlsCertificateFile: "c.pem" },
      "tlsCertificateKeyFile",
      "executor_config.tlsCertificateKeyFile is",
    ],
  ])("rejects %j", (config, key, message) => {
    const e = errorOf(() => parseHttpConfig(config as Record<string, string>));
    expect(e.code).toBe("VALIDATION");
    expect(e.field).toBe(`executor_config.${key}`);
    expect(e.message.startsWith(message)).toBe(true);
  });
});

describe("validateExecutorConfig", () => {
  it("checks shell and http configs and leaves other executors alone", () => {
    expect(errorOf(() => validateExecutorConfig("shell", null)).field).toBe("executor_config.command");
    expect(errorOf(() => validateExecutorConfig("http", {})).field).toBe("executor_config.url");
    expect(() => validateExecutorConfig("shell", { command: "true" })).not.toThrow();
    expect(() => validateExecutorConfig("kafka", {})).not.toThrow();
  });
});
