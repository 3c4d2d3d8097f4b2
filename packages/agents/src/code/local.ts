/** Runs shell, Python and Node code blocks as subprocesses in a working directory. */

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, readdirSync, readFileSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { CodeBlock, CodeExecutor, CodeResult } from "./executor.js";
import { canonicalLanguage } from "./languages.js";

/** The languages the local executor runs, and the interpreter each runs by default. */
const DEFAULT_INTERPRETERS = {
  bash: "bash",
  sh: "sh",
  python: "python3",
  javascript: "node",
} as const;

export type LocalLanguage = keyof typeof DEFAULT_INTERPRETERS;

const EXTENSIONS: Record<LocalLanguage, string> = {
  bash: "sh",
  sh: "sh",
  python: "py",
  javascript: "js",
};

/** Resource limits applied to every block's process (Linux: `prlimit`; elsewhere: the shell's `ulimit`). */
export interface ProcessLimits {
  /**
   * At most this many more processes/threads for the user the code runs as (RLIMIT_NPROC,
   * set to the user's current count plus this). Stops fork bombs. The kernel ignores it for root:
   * run as another user (`runAs`) there.
   */
  maxProcesses?: number;
  /** Address-space limit in bytes (RLIMIT_AS). Node needs about 600 MiB of address space to start. */
  maxMemoryBytes?: number;
  /** Largest file the code may write, in bytes (RLIMIT_FSIZE). */
  maxFileBytes?: number;
}

export interface LocalCommandLineExecutorOptions {
  /** Working directory for the code files and processes. Default: a fresh temp dir, removed on dispose. */
  workDir?: string;
  /** Wall-clock limit for one `execute` call (all its blocks), in ms. Default 60 000. */
  timeoutMs?: number;
  /** Cap on the output of one `execute` call (stdout and stderr together), in bytes. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * Names of the environment variables the code may see. Default: all of this process's
   * environment. `env` entries are added on top.
   */
  envAllowList?: readonly string[];
  /** Extra environment variables for the code. */
  env?: Record<string, string>;
  /** Resource limits. Default: `{ maxProcesses: 256, maxMemoryBytes: 4 GiB }`; `false` for none. */
  limits?: ProcessLimits | false;
  /** Run the code as this user and group (needs root). The temp dir is handed to that user. */
  runAs?: { uid: number; gid: number };
  /** Interpreter commands by language, e.g. `{ python: "/opt/venv/bin/python" }`. */
  interpreters?: Partial<Record<LocalLanguage, string>>;
  /** Delay between SIGTERM and SIGKILL when stopping a process group, in ms. Default 200. */
  killGraceMs?: number;
}

const DEFAULT_LIMITS: ProcessLimits = { maxProcesses: 256, maxMemoryBytes: 4 * 1024 ** 3 };

/**
 * Runs `bash`, `sh`, `python` and `javascript` blocks (fence aliases accepted) one after another,
 * each written to a file in the working directory and run by its interpreter, stopping at the
 * first failure.
 *
 * Every block runs in its own process group (`detached`) with stdin closed; the whole group is
 * killed (SIGTERM, then SIGKILL) on timeout, abort, output overflow, and when the block's main
 * process exits, so nothing it started outlives it (short of `setsid`). This is isolation from
 * accidents, not a security boundary: the code runs with this user's rights (or `runAs`'s).
 */
export class LocalCommandLineExecutor implements CodeExecutor {
  readonly languages: readonly string[] = Object.keys(DEFAULT_INTERPRETERS);
  readonly #options: LocalCommandLineExecutorOptions;
  readonly #timeoutMs: number;
  readonly #maxOutputBytes: number;
  readonly #killGraceMs: number;
  readonly #limits: ProcessLimits | undefined;
  readonly #running = new Set<ChildProcess>();
  #workDir: Promise<string> | undefined;
  #ownsWorkDir = false;
  #disposed = false;
  #counter = 0;

  constructor(options: LocalCommandLineExecutorOptions = {}) {
    this.#options = options;
    this.#timeoutMs = positive(options.timeoutMs ?? 60_000, "timeoutMs");
    this.#maxOutputBytes = positive(options.maxOutputBytes ?? 1024 * 1024, "maxOutputBytes");
    this.#killGraceMs = options.killGraceMs ?? 200;
    this.#limits = options.limits === false ? undefined : { ...DEFAULT_LIMITS, ...options.limits };
  }

  /** The working directory (created on first use). */
  workDir(): Promise<string> {
    this.#workDir ??= this.#createWorkDir();
    return this.#workDir;
  }

  async execute(blocks: CodeBlock[], options: { signal?: AbortSignal } = {}): Promise<CodeResult> {
    if (this.#disposed) throw new Error("LocalCommandLineExecutor: execute() after dispose()");
    const { signal } = options;
    signal?.throwIfAborted();
    const dir = await this.workDir();
    const deadline = Date.now() + this.#timeoutMs;
    let output = "";
    let budget = this.#maxOutputBytes;
    for (const block of blocks) {
      signal?.throwIfAborted();
      const language = canonicalLanguage(block.language) as LocalLanguage;
      if (!(language in DEFAULT_INTERPRETERS)) {
        const tag =
          block.language === "" ? "a block without a language tag" : `language "${block.language}"`;
        return {
          exitCode: 1,
          output: `${output}unsupported ${tag}: this executor runs ${this.languages.join(", ")}\n`,
        };
      }
      const interpreter = this.#options.interpreters?.[language] ?? DEFAULT_INTERPRETERS[language];
      const env = this.#environment();
      const resolved = findExecutable(interpreter, env.PATH ?? "");
      if (!resolved) {
        return {
          exitCode: 127,
          output: `${output}interpreter "${interpreter}" for ${language} blocks was not found (PATH=${env.PATH ?? ""})\n`,
        };
      }
      const file = join(dir, `code_${++this.#counter}_${hash(block.code)}.${EXTENSIONS[language]}`);
      await writeFile(file, block.code, { mode: 0o644 });
      if (this.#options.runAs) await chown(file, this.#options.runAs.uid, this.#options.runAs.gid);
      const run = await this.#run(resolved, file, dir, env, deadline - Date.now(), budget, signal);
      output += run.output;
      budget -= run.bytes;
      if (run.timedOut)
        return {
          exitCode: 124,
          output,
          timedOut: true,
          ...(run.truncated ? { truncated: true } : {}),
        };
      if (run.truncated)
        return { exitCode: run.exitCode === 0 ? 1 : run.exitCode, output, truncated: true };
      if (run.exitCode !== 0) return { exitCode: run.exitCode, output };
    }
    return { exitCode: 0, output };
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const child of this.#running) killGroup(child, "SIGKILL");
    this.#running.clear();
    if (this.#ownsWorkDir && this.#workDir) {
      const dir = await this.#workDir.catch(() => undefined);
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  async #createWorkDir(): Promise<string> {
    if (this.#options.workDir !== undefined) {
      await mkdir(this.#options.workDir, { recursive: true });
      return this.#options.workDir;
    }
    const dir = await mkdtemp(join(tmpdir(), "athanor-code-"));
    this.#ownsWorkDir = true;
    if (this.#options.runAs) await chown(dir, this.#options.runAs.uid, this.#options.runAs.gid);
    return dir;
  }

  #environment(): Record<string, string> {
    const env: Record<string, string> = {};
    const allow = this.#options.envAllowList;
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && (!allow || allow.includes(k))) env[k] = v;
    }
    // Unbuffered Python, so prints interleave with errors in the order they happened.
    env.PYTHONUNBUFFERED = "1";
    return { ...env, ...this.#options.env };
  }

  #run(
    interpreter: string,
    file: string,
    cwd: string,
    env: Record<string, string>,
    timeoutMs: number,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<{
    exitCode: number;
    output: string;
    bytes: number;
    timedOut: boolean;
    truncated: boolean;
  }> {
    const [command, args] = this.#commandLine(interpreter, file);
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "ignore"],
        uid: this.#options.runAs?.uid,
        gid: this.#options.runAs?.gid,
      });
      this.#running.add(child);
      const chunks: Buffer[] = [];
      let size = 0;
      let timedOut = false;
      let truncated = false;
      let aborted = false;
      let settled = false;
      let graceTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (graceTimer) return;
        killGroup(child, "SIGTERM");
        graceTimer = setTimeout(() => killGroup(child, "SIGKILL"), this.#killGraceMs);
      };
      const timer = setTimeout(
        () => {
          timedOut = true;
          stop();
        },
        Math.max(0, timeoutMs),
      );
      const onAbort = () => {
        aborted = true;
        stop();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      child.stdout?.on("data", (chunk: Buffer) => {
        if (truncated) return;
        if (size + chunk.length > maxBytes) {
          chunks.push(chunk.subarray(0, maxBytes - size));
          size = maxBytes;
          truncated = true;
          child.stdout?.destroy();
          stop();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      const finish = (exitCode: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(graceTimer);
        signal?.removeEventListener("abort", onAbort);
        // Whatever the block left running in its group (background jobs) goes with it.
        killGroup(child, "SIGKILL");
        this.#running.delete(child);
        child.stdout?.destroy();
        if (aborted) {
          reject(signal?.reason ?? new DOMException("The operation was aborted", "AbortError"));
          return;
        }
        // StringDecoder holds back a character cut in half by the cap.
        const output = new StringDecoder("utf8").write(Buffer.concat(chunks));
        resolve({ exitCode, output, bytes: size, timedOut, truncated });
      };
      child.on("error", (err) => {
        chunks.push(Buffer.from(`failed to start ${interpreter}: ${err.message}\n`));
        finish(127);
      });
      child.on("exit", (code, sig) => {
        const exitCode = code ?? 128 + signalNumber(sig);
        // Let the pipe drain what was already written, but do not wait on stragglers holding it open.
        if (child.stdout && !child.stdout.destroyed && !truncated) {
          const drain = setTimeout(() => finish(exitCode), 50);
          child.stdout.once("close", () => {
            clearTimeout(drain);
            finish(exitCode);
          });
        } else {
          finish(exitCode);
        }
      });
    });
  }

  /** The argv: limits (prlimit or ulimit), then a shell that merges stderr into stdout, then the interpreter. */
  #commandLine(interpreter: string, file: string): [string, string[]] {
    const merge = ["-c", 'exec "$0" "$@" 2>&1', interpreter, file];
    const limits = this.#limits;
    if (!limits) return ["/bin/sh", merge];
    const nproc =
      limits.maxProcesses !== undefined
        ? userTaskCount(this.#options.runAs?.uid ?? process.getuid?.() ?? -1) + limits.maxProcesses
        : undefined;
    const prlimit = findExecutable("prlimit", process.env.PATH ?? "");
    if (prlimit) {
      const flags: string[] = [];
      if (nproc !== undefined) flags.push(`--nproc=${nproc}`);
      if (limits.maxMemoryBytes !== undefined) flags.push(`--as=${limits.maxMemoryBytes}`);
      if (limits.maxFileBytes !== undefined) flags.push(`--fsize=${limits.maxFileBytes}`);
      return [prlimit, [...flags, "--", "/bin/sh", ...merge]];
    }
    // No prlimit (macOS, BSD): the shell's ulimit, each limit skipped where the shell lacks it.
    const ulimits: string[] = [];
    if (nproc !== undefined) ulimits.push(`ulimit -u ${nproc} 2>/dev/null;`);
    if (limits.maxMemoryBytes !== undefined)
      ulimits.push(`ulimit -v ${Math.floor(limits.maxMemoryBytes / 1024)} 2>/dev/null;`);
    if (limits.maxFileBytes !== undefined)
      ulimits.push(`ulimit -f ${Math.floor(limits.maxFileBytes / 512)} 2>/dev/null;`);
    return ["/bin/sh", ["-c", `${ulimits.join(" ")} exec "$0" "$@" 2>&1`, interpreter, file]];
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (osConstants.signals[sig] ?? 0) : 0;
}

/** Threads (what RLIMIT_NPROC counts) owned by a user, from /proc; 0 where /proc is missing. */
function userTaskCount(uid: number): number {
  if (uid < 0) return 0;
  let count = 0;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, "latin1");
      const owner = /^Uid:\s+(\d+)/m.exec(status);
      if (owner && Number(owner[1]) === uid)
        count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // The process exited while we looked.
    }
  }
  return count;
}

/** The absolute path of an executable: `name` itself if it has a slash, else the first match on PATH. */
function findExecutable(name: string, path: string): string | undefined {
  const candidates = name.includes("/")
    ? [name]
    : path
        .split(delimiter)
        .filter((d) => isAbsolute(d))
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function hash(code: string): string {
  return createHash("sha256").update(code).digest("hex").slice(0, 8);
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(
      `LocalCommandLineExecutor: ${name} must be a positive number, got ${value}`,
    );
  return value;
}
