/** Canonical code-block languages and the fence tags that name them. */

const ALIASES: Record<string, string> = {
  bash: "bash",
  shell: "bash",
  zsh: "bash",
  console: "bash",
  sh: "sh",
  py: "python",
  python: "python",
  python3: "python",
  js: "javascript",
  javascript: "javascript",
  node: "javascript",
  nodejs: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  ts: "typescript",
  typescript: "typescript",
};

/**
 * The canonical name for a fence tag: `sh` stays `sh` (POSIX shell); `bash`, `shell`, `zsh`,
 * `console` are `bash`; `py`, `python3` are `python`; `js`, `node`, `mjs`, `cjs` are `javascript`;
 * `ts` is `typescript`. Unknown tags come back lower-cased and trimmed.
 */
export function canonicalLanguage(tag: string): string {
  const t = tag.trim().toLowerCase();
  return ALIASES[t] ?? t;
}
