/** The sandbox as a `CodeExecutor`: runs `javascript` blocks, each in a fresh QuickJS context. */

import type { CodeBlock, CodeExecutor, CodeResult } from "./executor.js";
import { canonicalLanguage } from "./languages.js";
import {
  formatSandboxError,
  type Grants,
  runSandboxed,
  type SandboxLimits,
  type SandboxModule,
} from "./sandbox.js";

export interface SandboxedJsExecutorOptions extends SandboxLimits {
  /** Host functions every block may call (see `runSandboxed`). Default: none. */
  grants?: Grants;
  /** The QuickJS module to run in (default: the shared one). */
  module?: SandboxModule;
}

/**
 * Runs `javascript` blocks (fence tags `js`, `node`, ... accepted) in the QuickJS sandbox, one
 * fresh runtime per block, with no file system, network, timers or host objects beyond `grants`.
 * Output is what the blocks print with `console.*`; an error ends the run with exit code 1 (124 on
 * timeout) and its description, with line and column, as the last line of output.
 * `timeoutMs` applies to each block, `maxOutputBytes` (default 64 KiB) to all of them together.
 */
export class SandboxedJsExecutor implements CodeExecutor {
  readonly languages: readonly string[] = ["javascript"];
  readonly #options: SandboxedJsExecutorOptions;
  #disposed = false;

  constructor(options: SandboxedJsExecutorOptions = {}) {
    this.#options = options;
  }

  async execute(blocks: CodeBlock[], options: { signal?: AbortSignal } = {}): Promise<CodeResult> {
    if (this.#disposed) throw new Error("SandboxedJsExecutor: execute() after dispose()");
    let output = "";
    let budget = this.#options.maxOutputBytes ?? 64 * 1024;
    for (const block of blocks) {
      options.signal?.throwIfAborted();
      if (canonicalLanguage(block.language) !== "javascript") {
        const tag =
          block.language === "" ? "a block without a language tag" : `language "${block.language}"`;
        return {
          exitCode: 1,
          output: `${output}unsupported ${tag}: this executor runs javascript\n`,
        };
      }
      const run = await runSandboxed(block.code, {
        ...this.#options,
        maxOutputBytes: budget,
        filename: "block.js",
        signal: options.signal,
      });
      output += run.output;
      budget -= new TextEncoder().encode(run.output).length;
      if (run.error?.kind === "aborted") options.signal?.throwIfAborted();
      if (run.error) {
        output += `${formatSandboxError(run.error)}\n`;
        const timedOut = run.error.kind === "timeout";
        return {
          exitCode: timedOut ? 124 : 1,
          output,
          ...(timedOut ? { timedOut: true } : {}),
          ...(run.truncated ? { truncated: true } : {}),
        };
      }
      if (run.truncated) return { exitCode: 1, output, truncated: true };
    }
    return { exitCode: 0, output };
  }

  async dispose(): Promise<void> {
    // Each block's runtime and context are disposed when the block ends; nothing is held between runs.
    this.#disposed = true;
  }
}
