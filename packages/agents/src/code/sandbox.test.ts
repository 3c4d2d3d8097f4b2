import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { DEBUG_SYNC, newQuickJSWASMModule, type QuickJSRuntime } from "quickjs-emscripten";
import { describe, expect, it } from "vitest";
import { runSandboxed } from "./sandbox.js";
import { SandboxedJsExecutor } from "./sandbox-executor.js";

describe("runSandboxed: values in and out", () => {
  it("returns the completion value as JSON", async () => {
    const r = await runSandboxed("const x = [1, 2, 3]; x.map((v) => v * 2)");
    expect(r).toEqual({ value: [2, 4, 6], output: "", truncated: false });
  });

  it("gives the code a deep copy of input and returns the edited copy", async () => {
    const input = { capacity: { A: 10, B: 20 }, plants: ["A", "B"] };
    const r = await runSandboxed("input.capacity.A *= 1.5; input.plants.push('C'); input", {
      input,
    });
    expect(r.value).toEqual({ capacity: { A: 15, B: 20 }, plants: ["A", "B", "C"] });
    expect(input).toEqual({ capacity: { A: 10, B: 20 }, plants: ["A", "B"] });
  });

  it("never exposes the host object: prototypes and functions do not cross", async () => {
    class Secret {
      key = "k";
      reveal() {
        return process.env;
      }
    }
    const r = await runSandboxed(
      "[typeof input.reveal, Object.getPrototypeOf(input) === Object.prototype, input.constructor.constructor('return typeof process')()]",
      { input: new Secret() },
    );
    expect(r.value).toEqual(["undefined", true, "undefined"]);
  });

  it("prefers an explicit global `result` over the completion value", async () => {
    expect((await runSandboxed("var result = { ok: true }; 42")).value).toEqual({ ok: true });
    expect((await runSandboxed("result = 'set'; 1 + 1")).value).toBe("set");
    expect((await runSandboxed("let result = [1]; 'x'")).value).toEqual([1]);
  });

  it("awaits a promise completion value", async () => {
    const r = await runSandboxed(
      "(async () => { const v = await Promise.resolve(input * 2); return { v }; })()",
      { input: 21 },
    );
    expect(r.value).toEqual({ v: 42 });
    const rejected = await runSandboxed("Promise.reject(new TypeError('nope'))");
    expect(rejected.error).toMatchObject({ kind: "thrown", name: "TypeError", message: "nope" });
    const pending = await runSandboxed("new Promise(() => {})");
    expect(pending.error).toMatchObject({ kind: "result" });
    expect(pending.error?.message).toMatch(/never settled/);
  });

  it("returns no value for undefined or functions, and an error for non-JSON results", async () => {
    expect((await runSandboxed("let a = 1;")).value).toBeUndefined();
    expect((await runSandboxed("(function () {})")).value).toBeUndefined();
    const cyclic = await runSandboxed("const o = {}; o.self = o; o");
    expect(cyclic.error?.kind).toBe("result");
    expect(cyclic.error?.message).toMatch(/not JSON-serializable/);
    expect((await runSandboxed("10n")).error?.kind).toBe("result");
  });

  it("rejects bad options with a clear error", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(runSandboxed("1", { input: cyclic })).rejects.toThrow(
      /input must be JSON-serializable/,
    );
    await expect(runSandboxed("1", { timeoutMs: 0 })).rejects.toThrow(
      /timeoutMs must be a positive number/,
    );
    await expect(runSandboxed("1", { memoryBytes: 1000 })).rejects.toThrow(
      /memoryBytes must be at least/,
    );
    await expect(runSandboxed("1", { maxOutputBytes: 2 ** 40 })).rejects.toThrow(
      /maxOutputBytes must be at most 1073741824/,
    );
    await expect(runSandboxed("1", { grants: { x: 5 as never } })).rejects.toThrow(
      /grants.x must be a function/,
    );
  });
});

describe("runSandboxed: isolation", () => {
  it("has no file system, network, timers, modules or host globals", async () => {
    const r = await runSandboxed(
      "['setTimeout','setInterval','fetch','require','process','XMLHttpRequest','WebAssembly','std','os','Deno','Bun','input'].filter((n) => typeof globalThis[n] !== 'undefined')",
    );
    expect(r.value).toEqual([]);
    const imported = await runSandboxed("import fs from 'fs'");
    expect(imported.error?.kind).toBe("syntax");
    const dynamic = await runSandboxed("import('fs')");
    expect(dynamic.error?.kind).toBe("thrown");
  });

  it("starts each run in a fresh context: nothing leaks between runs", async () => {
    await runSandboxed(
      "globalThis.leak = 1; Object.prototype.polluted = true; Array.prototype.push = null;",
    );
    const r = await runSandboxed("[typeof leak, ({}).polluted, typeof [].push]");
    expect(r.value).toEqual(["undefined", null, "function"]);
  });

  it("calls granted host functions with JSON arguments and results, and nothing else", async () => {
    const calls: unknown[] = [];
    const grants = {
      lookup: (key: unknown) => ({ key, value: 7 }),
      log: (...args: unknown[]) => {
        calls.push(args);
        return undefined;
      },
      db: { count: () => 3 },
    };
    const r = await runSandboxed(
      "log('a', { b: [1] }); [lookup('x').value, db.count(), typeof lookup.call]",
      {
        grants: grants as never,
      },
    );
    expect(r.value).toEqual([7, 3, "function"]);
    expect(calls).toEqual([["a", { b: [1] }]]);
  });

  it("turns an exception in a granted function into a catchable error in the sandbox", async () => {
    const r = await runSandboxed("try { boom(); } catch (e) { 'caught: ' + e.message }", {
      grants: {
        boom: () => {
          throw new Error("host said no");
        },
      },
    });
    expect(r.value).toBe("caught: host said no");
    const asyncGrant = await runSandboxed("later()", {
      grants: { later: (() => Promise.resolve(1)) as never },
    });
    expect(asyncGrant.error?.message).toMatch(/must be synchronous/);
  });
});

describe("runSandboxed: output", () => {
  it("captures console output, formatted", async () => {
    const r = await runSandboxed(
      "console.log('a', 1, { b: [true] }, null, undefined); console.error(new RangeError('bad')); 0",
    );
    expect(r.output).toBe('a 1 {"b":[true]} null undefined\nRangeError: bad\n');
  });

  it("caps output, cutting on a character boundary", async () => {
    const r = await runSandboxed("for (let i = 0; i < 1000; i++) console.log('héllo'); 'done'", {
      maxOutputBytes: 100,
    });
    expect(r.truncated).toBe(true);
    expect(new TextEncoder().encode(r.output).length).toBeLessThanOrEqual(100);
    expect(r.output.startsWith("héllo\nhéllo\n")).toBe(true);
    expect(r.value).toBe("done");
  });
});

describe("runSandboxed: errors and limits", () => {
  it("reports thrown errors with message and line", async () => {
    const r = await runSandboxed("const a = 1;\nconst b = 2;\nthrow new Error('boom at three');", {
      filename: "edit.js",
    });
    expect(r.error).toMatchObject({
      kind: "thrown",
      name: "Error",
      message: "boom at three",
      line: 3,
    });
    const typeError = await runSandboxed("let x = null;\n\n  x.field = 1;");
    expect(typeError.error).toMatchObject({ kind: "thrown", name: "TypeError", line: 3 });
    const thrownValue = await runSandboxed("throw 'plain string'");
    expect(thrownValue.error).toMatchObject({ kind: "thrown", message: 'uncaught "plain string"' });
  });

  it("reports syntax errors with line, and keeps output printed before a runtime error", async () => {
    const r = await runSandboxed("let ok = 1;\nlet = = 2;");
    expect(r.error).toMatchObject({ kind: "syntax", name: "SyntaxError", line: 2 });
    const partial = await runSandboxed("console.log('before');\nJSON.parse('{');");
    expect(partial.output).toBe("before\n");
    expect(partial.error).toMatchObject({ kind: "thrown", name: "SyntaxError", line: 2 });
  });

  it("stops an infinite loop at the time limit", async () => {
    const r = await runSandboxed("let i = 0; for (;;) { i++; }", { timeoutMs: 100 });
    expect(r.error).toMatchObject({ kind: "timeout", message: "timed out after 100 ms" });
    const catching = await runSandboxed("for (;;) { try { while (true) {} } catch (e) {} }", {
      timeoutMs: 100,
    });
    expect(catching.error?.kind).toBe("timeout");
  });

  it("stops a huge allocation at the memory limit", async () => {
    const r = await runSandboxed("const a = []; for (;;) a.push(new Float64Array(1e5));", {
      memoryBytes: 8 * 1024 * 1024,
      timeoutMs: 5000,
    });
    expect(r.error).toMatchObject({ kind: "memory" });
    expect(r.error?.message).toMatch(/out of memory \(limit 8388608 bytes\)/);
    const big = await runSandboxed("new Array(1e9).fill(0)", { memoryBytes: 16 * 1024 * 1024 });
    expect(big.error?.kind).toBe("memory");
    const objects = await runSandboxed(
      "const a = []; for (;;) a.push({ i: a.length, s: 'k' + a.length });",
      {
        memoryBytes: 16 * 1024 * 1024,
        timeoutMs: 5000,
      },
    );
    expect(objects.error?.kind).toBe("memory");
  });

  it("stops deep recursion at the stack limit", async () => {
    const r = await runSandboxed("function f(n) { return f(n + 1) + 1; }\nf(0)");
    expect(r.error).toMatchObject({ kind: "stack", line: 1 });
    expect(r.error?.message).toMatch(/stack overflow/);
  });

  it("survives code that exhausts the host stack, and keeps working after", async () => {
    // JSON.stringify of a very deep array recurses in C faster than QuickJS's stack check sees.
    // Its time grows with the square of the depth (QuickJS scans the open objects for cycles),
    // and a worker's host stack (4 MiB) lets it go about 4x deeper than the main thread's
    // before it runs out: seconds, so the time limit is set well above that.
    const r = await runSandboxed(
      "let a = []; for (let i = 0; i < 1e5; i++) a = [a]; JSON.stringify(a).length",
      {
        stackBytes: 4 * 1024 * 1024,
        timeoutMs: 20_000,
      },
    );
    expect(["stack", "crash"]).toContain(r.error?.kind);
    expect((await runSandboxed("1 + 1")).value).toBe(2);
  });

  it("ends with kind 'aborted' when the signal has fired", async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await runSandboxed("1", { signal: controller.signal })).error?.kind).toBe("aborted");
  });
});

describe("runSandboxed: the hard time limit", () => {
  // Catches its own stack overflows and recurses again: each operation builds a deep backtrace,
  // so QuickJS's interrupt handler (polled by operation count) is reached far too rarely; this
  // overran a 500 ms limit by about 25 s before runs were moved into terminable workers.
  const storm = "function f() { try { f(); } catch { f(); } }\nf();";

  it("ends code that defeats the interrupt handler as a timeout, keeping its output", async () => {
    const started = Date.now();
    const r = await runSandboxed(`console.log('before the storm');\n${storm}`, {
      timeoutMs: 500,
    });
    // A generous correctness bound, not a speed claim.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.error).toEqual({
      kind: "timeout",
      name: "TimeoutError",
      message: "timed out after 500 ms",
    });
    expect(r.output).toBe("before the storm\n");
    expect(r.value).toBeUndefined();
  });

  it("stops `while (true) {}` at the time limit", async () => {
    const started = Date.now();
    const r = await runSandboxed("while (true) {}", { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.error).toMatchObject({ kind: "timeout", message: "timed out after 200 ms" });
  });

  it("keeps working after a run was stopped the hard way", async () => {
    expect((await runSandboxed(storm, { timeoutMs: 100 })).error?.kind).toBe("timeout");
    const next = await runSandboxed("console.log(input.n); lookup(input.n)", {
      input: { n: 3 },
      grants: { lookup: (n) => ({ n, squared: (n as number) ** 2 }) },
    });
    expect(next).toEqual({ value: { n: 3, squared: 9 }, output: "3\n", truncated: false });
    // Twice in a row, then a memory limit and a thrown error in the fresh worker.
    expect((await runSandboxed(storm, { timeoutMs: 100 })).error?.kind).toBe("timeout");
    expect((await runSandboxed(storm, { timeoutMs: 100 })).error?.kind).toBe("timeout");
    const memory = await runSandboxed("const a = []; for (;;) a.push(new Float64Array(1e5));", {
      memoryBytes: 8 * 1024 * 1024,
      timeoutMs: 5000,
    });
    expect(memory.error?.kind).toBe("memory");
    const thrown = await runSandboxed("throw new RangeError('after')");
    expect(thrown.error).toMatchObject({ kind: "thrown", name: "RangeError", message: "after" });
  });

  it("runs concurrent calls independently, one of them stopped the hard way", async () => {
    const [stopped, ...rest] = await Promise.all([
      runSandboxed(storm, { timeoutMs: 300 }),
      ...[1, 2, 3].map((n) => runSandboxed("input * 2", { input: n })),
      runSandboxed("console.log('x'); twice(21)", { grants: { twice: (v) => (v as number) * 2 } }),
    ]);
    expect(stopped?.error?.kind).toBe("timeout");
    expect(rest.map((r) => r.value)).toEqual([2, 4, 6, 42]);
    expect(rest[3]?.output).toBe("x\n");
  });

  it("ends a run when its signal fires: gracefully, or by terminating its worker", async () => {
    const abortIn = (ms: number) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), ms);
      return controller.signal;
    };
    const started = Date.now();
    const loop = await runSandboxed("while (true) {}", { timeoutMs: 30_000, signal: abortIn(50) });
    expect(loop.error).toMatchObject({ kind: "aborted", message: "the run was aborted" });
    const stormed = await runSandboxed(storm, { timeoutMs: 30_000, signal: abortIn(50) });
    expect(stormed.error).toEqual({
      kind: "aborted",
      name: "AbortError",
      message: "the run was aborted",
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await runSandboxed("'still here'")).value).toBe("still here");
  });

  it("passes what a granted function throws into the sandbox, Error or not", async () => {
    const r = await runSandboxed(
      "const seen = []; for (const f of [a, b]) { try { f(); } catch (e) { seen.push([e.name, e.message]); } } seen",
      {
        grants: {
          a: () => {
            throw new RangeError("range from host");
          },
          b: () => {
            throw "plain host string";
          },
        },
      },
    );
    expect(r.value).toEqual([
      ["RangeError", "range from host"],
      ["Error", "plain host string"],
    ]);
  });
});

describe("runSandboxed under tsx", () => {
  // Workers run `sandboxCore`'s source text; tsx (esbuild with keepNames) injects `__name(...)`
  // calls into it, which the worker must define. Vitest's transform does not, hence a child process.
  const root = fileURLToPath(new URL("../../../..", import.meta.url));
  const tsx = join(root, "node_modules/.bin/tsx");

  it.skipIf(!existsSync(tsx))("runs, calls grants and stops hard in its workers", async () => {
    const entry = pathToFileURL(fileURLToPath(new URL("./sandbox.ts", import.meta.url))).href;
    const dir = mkdtempSync(join(tmpdir(), "sandbox-tsx-"));
    try {
      const file = join(dir, "run.mts");
      writeFileSync(
        file,
        `import { runSandboxed } from ${JSON.stringify(entry)};
const ok = await runSandboxed("console.log('hi'); twice(input)", { input: 21, grants: { twice: (v) => v * 2 } });
const storm = await runSandboxed("function f() { try { f(); } catch { f(); } } f()", { timeoutMs: 200 });
console.log(JSON.stringify({ ok, storm: storm.error?.kind }));`,
      );
      const { stdout } = await promisify(execFile)(tsx, [file], { cwd: root, timeout: 60_000 });
      expect(JSON.parse(stdout.trim().split("\n").at(-1) ?? "")).toEqual({
        ok: { value: 42, output: "hi\n", truncated: false },
        storm: "timeout",
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runSandboxed: resources", () => {
  it("disposes every runtime, context and handle (checked by the debug build's leak sanitizer)", async () => {
    const debug = await newQuickJSWASMModule(DEBUG_SYNC);
    const runtimes: QuickJSRuntime[] = [];
    const module = {
      newRuntime: () => {
        const runtime = debug.newRuntime();
        runtimes.push(runtime);
        return runtime;
      },
    };
    // One run down each path: value with input, grants, console and a promise; a thrown error;
    // a non-JSON result; a syntax error.
    const ok = await runSandboxed("console.log(input.n); (async () => ({ n: log(input.n) }))()", {
      module,
      timeoutMs: 30_000,
      input: { n: 2 },
      grants: { log: (n) => n },
    });
    expect(ok).toMatchObject({ value: { n: 2 }, output: "2\n" });
    expect(
      (await runSandboxed("throw new Error('x')", { module, timeoutMs: 30_000 })).error?.kind,
    ).toBe("thrown");
    expect(
      (await runSandboxed("const o = {}; o.o = o; o", { module, timeoutMs: 30_000 })).error?.kind,
    ).toBe("result");
    expect((await runSandboxed("let = =", { module, timeoutMs: 30_000 })).error?.kind).toBe(
      "syntax",
    );
    expect(runtimes.map((r) => r.alive)).toEqual([false, false, false, false]);
    // Nonzero if anything allocated inside QuickJS was not freed.
    expect(debug.getFFI().QTS_RecoverableLeakCheck()).toBe(0);
  });

  it("keeps the process's memory bounded over many runs", async () => {
    const code =
      "const o = { a: input.n, list: [] }; for (let i = 0; i < 1000; i++) o.list.push({ i }); o.list.length";
    for (let i = 0; i < 20; i++) await runSandboxed(code, { input: { n: i } });
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 200; i++) {
      const r = await runSandboxed(code, { input: { n: i } });
      expect(r.value).toBe(1000);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });
});

describe("SandboxedJsExecutor", () => {
  it("runs javascript blocks and reports console output", async () => {
    const executor = new SandboxedJsExecutor();
    const r = await executor.execute([
      { language: "js", code: "console.log(1 + 1)" },
      { language: "javascript", code: "console.log('second')" },
    ]);
    expect(r).toEqual({ exitCode: 0, output: "2\nsecond\n" });
    await executor.dispose();
  });

  it("stops at the first failing block with the error and its line", async () => {
    const executor = new SandboxedJsExecutor();
    const r = await executor.execute([
      { language: "javascript", code: "console.log('ran')\nundefinedFn()" },
      { language: "javascript", code: "console.log('never')" },
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.output).toBe("ran\nReferenceError: 'undefinedFn' is not defined (line 2, column 1)\n");
  });

  it("reports timeouts as exit code 124 and rejects other languages", async () => {
    const executor = new SandboxedJsExecutor({ timeoutMs: 50 });
    const r = await executor.execute([{ language: "js", code: "while (true) {}" }]);
    expect(r).toMatchObject({ exitCode: 124, timedOut: true });
    const py = await executor.execute([{ language: "python", code: "print(1)" }]);
    expect(py).toEqual({
      exitCode: 1,
      output: 'unsupported language "python": this executor runs javascript\n',
    });
  });

  it("caps output across blocks", async () => {
    const executor = new SandboxedJsExecutor({ maxOutputBytes: 8 });
    const r = await executor.execute([
      { language: "js", code: "console.log('12345')" },
      { language: "js", code: "console.log('abcdef')" },
    ]);
    expect(r).toEqual({ exitCode: 1, output: "12345\nab", truncated: true });
  });

  it("rejects with the abort reason when aborted", async () => {
    const executor = new SandboxedJsExecutor();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      executor.execute([{ language: "js", code: "1" }], { signal: controller.signal }),
    ).rejects.toThrow("stop");
  });
});
