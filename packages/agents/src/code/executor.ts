/** The code-executor interface: runs code blocks and reports what they printed. */

export interface CodeBlock {
  /** "bash", "sh", "python", "javascript", ... (as written after the opening fence). */
  language: string;
  code: string;
}

export interface CodeResult {
  /** 0 on success; the first failing block's exit code otherwise (124 on timeout). */
  exitCode: number;
  /** stdout and stderr interleaved, capped at the executor's output limit. */
  output: string;
  timedOut?: boolean;
  /** True when output was cut at the cap. */
  truncated?: boolean;
}

export interface CodeExecutor {
  /** Languages this executor runs (lower case). */
  readonly languages: readonly string[];
  /** Runs the blocks in order, stopping at the first failure. */
  execute(blocks: CodeBlock[], options?: { signal?: AbortSignal }): Promise<CodeResult>;
  /** Releases processes, workers or WebAssembly instances. */
  dispose(): Promise<void>;
}
