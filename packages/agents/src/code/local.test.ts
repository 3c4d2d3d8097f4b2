import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LocalCommandLineExecutor, type LocalCommandLineExecutorOptions } from "./local.js";

// The interpreter itself, not a version manager's shim (pyenv's adds half a second per start).
const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).trim();

const executors: LocalCommandLineExecutor[] = [];
function executor(options: LocalCommandLineExecutorOptions = {}): LocalCommandLineExecutor {
  const e = new LocalCommandLineExecutor({
    timeoutMs: 10_000,
    ...options,
    interpreters: { python, ...options.interpreters },
  });
  executors.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.dispose()));
});

/** Whether a process is still running (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

async function waitUntil(predicate: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
}

const linux = process.platform === "linux";

describe("LocalCommandLineExecutor: running blocks", () => {
  it("runs bash, sh, python and node blocks in order, by alias too", async () => {
    const r = await executor().execute([
      { language: "bash", code: 'test -n "$BASH_VERSION" && echo bash' },
      { language: "sh", code: "echo sh" },
      { language: "py", code: "import sys\nprint('python', sys.version_info[0])" },
      { language: "node", code: "console.log('node', typeof process.version)" },
      {
        language: "javascript",
        code: "import { platform } from 'node:os';\nconsole.log('esm', typeof platform())",
      },
    ]);
    expect(r).toEqual({ exitCode: 0, output: "bash\nsh\npython 3\nnode string\nesm string\n" });
  });

  it("interleaves stdout and stderr in the order they were written", async () => {
    const r = await executor().execute([
      { language: "bash", code: "echo one; echo two >&2; echo three" },
      {
        language: "python",
        code: "import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')",
      },
    ]);
    expect(r.output).toBe("one\ntwo\nthree\na\nb\nc\n");
  });

  it("stops at the first failing block and returns its exit code and error output", async () => {
    const r = await executor().execute([
      { language: "bash", code: "echo first" },
      { language: "python", code: "print('before')\nraise ValueError('bad value')" },
      { language: "bash", code: "echo never" },
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/^first\nbefore\nTraceback[\s\S]*ValueError: bad value\n$/);
    expect((await executor().execute([{ language: "sh", code: "exit 7" }])).exitCode).toBe(7);
  });

  it("runs in the working directory it was given, and keeps it on dispose", async () => {
    const dir = await mkdtemp(join(tmpdir(), "athanor-test-"));
    try {
      const e = new LocalCommandLineExecutor({ workDir: dir, interpreters: { python } });
      const r = await e.execute([
        { language: "bash", code: "pwd; echo data > out.txt" },
        { language: "python", code: "print(open('out.txt').read().strip())" },
      ]);
      expect(r).toEqual({ exitCode: 0, output: `${dir}\ndata\n` });
      const files = await readdir(dir);
      expect(files.filter((f) => f.startsWith("code_")).length).toBe(2);
      await e.dispose();
      expect(await readFile(join(dir, "out.txt"), "utf8")).toBe("data\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("creates a fresh temp directory by default and removes it on dispose", async () => {
    const e = new LocalCommandLineExecutor();
    const dir = await e.workDir();
    expect(dir.startsWith(tmpdir())).toBe(true);
    await e.execute([{ language: "sh", code: "touch x" }]);
    expect(existsSync(join(dir, "x"))).toBe(true);
    await e.dispose();
    expect(existsSync(dir)).toBe(false);
    await expect(e.execute([{ language: "sh", code: "true" }])).rejects.toThrow(/after dispose/);
  });

  it("passes only allow-listed environment variables, plus the ones it is given", async () => {
    const r = await executor({ envAllowList: ["PATH"], env: { GIVEN: "yes" } }).execute([
      { language: "bash", code: 'echo "home=$HOME given=$GIVEN"' },
    ]);
    expect(r.output).toBe("home= given=yes\n");
  });
});

describe("LocalCommandLineExecutor: bad input", () => {
  it("names a missing interpreter", async () => {
    const r = await executor({ interpreters: { python: "python3-not-installed" } }).execute([
      { language: "python", code: "print(1)" },
    ]);
    expect(r.exitCode).toBe(127);
    expect(r.output).toMatch(/interpreter "python3-not-installed" for python blocks was not found/);
  });

  it("rejects unsupported and untagged blocks with a clear message", async () => {
    const e = executor();
    expect(await e.execute([{ language: "ruby", code: "puts 1" }])).toEqual({
      exitCode: 1,
      output: 'unsupported language "ruby": this executor runs bash, sh, python, javascript\n',
    });
    expect((await e.execute([{ language: "", code: "ls" }])).output).toMatch(
      /a block without a language tag/,
    );
  });

  it("gives the code a closed stdin", async () => {
    const r = await executor().execute([
      { language: "bash", code: 'read line; echo "read exit $?"' },
      { language: "python", code: "try:\n    input()\nexcept EOFError:\n    print('EOF')" },
    ]);
    expect(r).toEqual({ exitCode: 0, output: "read exit 1\nEOF\n" });
  });
});

describe("LocalCommandLineExecutor: runaway code", () => {
  it("kills the whole process group on timeout", async () => {
    const e = executor({ timeoutMs: 500 });
    const dir = await e.workDir();
    const r = await e.execute([
      { language: "bash", code: "sleep 60 & echo $! > bg.pid; echo started; sleep 60" },
    ]);
    expect(r).toEqual({ exitCode: 124, output: "started\n", timedOut: true });
    const bg = Number(await readFile(join(dir, "bg.pid"), "utf8"));
    if (linux) expect(await waitUntil(() => !alive(bg))).toBe(true);
  });

  it("kills a process that ignores SIGTERM, after the grace period", async () => {
    const r = await executor({ timeoutMs: 300, killGraceMs: 100 }).execute([
      { language: "bash", code: "trap '' TERM; echo trapped; while true; do sleep 0.05; done" },
    ]);
    expect(r).toMatchObject({ exitCode: 124, timedOut: true, output: "trapped\n" });
  });

  it("kills what a block left running in the background when it exits", async () => {
    const e = executor();
    const dir = await e.workDir();
    const r = await e.execute([
      { language: "bash", code: "sleep 60 & echo $! > bg.pid; echo done" },
    ]);
    expect(r).toEqual({ exitCode: 0, output: "done\n" });
    const bg = Number(await readFile(join(dir, "bg.pid"), "utf8"));
    if (linux) expect(await waitUntil(() => !alive(bg))).toBe(true);
  });

  it("caps output from `yes`, stops reading and kills it", async () => {
    const r = await executor({ maxOutputBytes: 64 * 1024 }).execute([
      { language: "bash", code: "yes" },
    ]);
    expect(r.truncated).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(Buffer.byteLength(r.output)).toBe(64 * 1024);
    expect(r.output.startsWith("y\ny\ny\n")).toBe(true);
  });

  it("counts the output cap across blocks", async () => {
    const r = await executor({ maxOutputBytes: 10 }).execute([
      { language: "sh", code: "printf 123456" },
      { language: "sh", code: "printf abcdefgh" },
    ]);
    expect(r).toMatchObject({ output: "123456abcd", truncated: true });
  });

  it("does not cut a character in half at the cap", async () => {
    const r = await executor({ maxOutputBytes: 2 }).execute([
      { language: "sh", code: "printf 'h\\303\\251llo'" },
    ]);
    expect(r).toMatchObject({ output: "h", truncated: true });
  });

  it("rejects with the abort reason and kills the group when aborted", async () => {
    const e = executor();
    const dir = await e.workDir();
    const controller = new AbortController();
    const running = e.execute([{ language: "bash", code: "echo $$ > main.pid; sleep 60" }], {
      signal: controller.signal,
    });
    await waitUntil(
      () =>
        existsSync(join(dir, "main.pid")) &&
        readFileSync(join(dir, "main.pid"), "utf8").endsWith("\n"),
    );
    controller.abort(new Error("user stopped it"));
    await expect(running).rejects.toThrow("user stopped it");
    const pid = Number(await readFile(join(dir, "main.pid"), "utf8"));
    if (linux) expect(await waitUntil(() => !alive(pid))).toBe(true);
  });

  it.runIf(linux)(
    "limits the address space (ulimit -v): a huge allocation fails inside the code",
    async () => {
      const r = await executor({ limits: { maxMemoryBytes: 256 * 1024 * 1024 } }).execute([
        {
          language: "python",
          code: "try:\n    x = bytearray(1024 * 1024 * 1024)\nexcept MemoryError:\n    print('MemoryError')",
        },
      ]);
      expect(r).toEqual({ exitCode: 0, output: "MemoryError\n" });
    },
  );

  it.runIf(linux)("limits file size", async () => {
    const r = await executor({ limits: { maxFileBytes: 1024 } }).execute([
      { language: "bash", code: 'head -c 4096 /dev/zero > big; echo "exit $?"; stat -c %s big' },
    ]);
    // 153 = 128 + SIGXFSZ: the write past the limit killed head.
    expect(r.exitCode).toBe(0);
    expect(r.output).toMatch(/File size limit exceeded[\s\S]*\nexit 153\n1024\n$/);
  });

  // A bounded fork bomb (2^7 processes at most) against a limit of 16: forks start failing.
  // The kernel ignores RLIMIT_NPROC for root, so as root the code runs as nobody.
  const root = process.getuid?.() === 0;
  it.runIf(linux && existsSync("/usr/bin/prlimit"))(
    "stops a fork bomb at the process limit",
    async () => {
      const e = executor({
        timeoutMs: 1500,
        limits: { maxProcesses: 16 },
        ...(root ? { runAs: { uid: 65534, gid: 65534 } } : {}),
      });
      const r = await e.execute([
        {
          language: "bash",
          code: 'bomb() { if [ "$1" -lt 7 ]; then bomb $(($1 + 1)) & bomb $(($1 + 1)) & fi; wait; }; bomb 0; echo finished',
        },
      ]);
      expect(r.output).toMatch(/fork: (retry: )?Resource temporarily unavailable/);
      if (root) expect(await waitUntil(() => countTasks(65534) === 0, 3000)).toBe(true);
    },
  );
});

function countTasks(uid: number): number {
  let n = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "latin1");
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid && alive(Number(entry))) n++;
    } catch {
      // gone
    }
  }
  return n;
}
