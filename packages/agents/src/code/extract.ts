/** Extraction of fenced code blocks from Markdown (model replies). */

import type { CodeBlock } from "./executor.js";
import { canonicalLanguage } from "./languages.js";

// An opening fence: indentation, 3+ backticks or tildes, then the info string.
const OPENING = /^([ \t]*)(`{3,}|~{3,})(.*)$/;

/**
 * The fenced code blocks of a Markdown text, in order.
 *
 * - Fences are ``` or ~~~ (3 or more); a block closes at a line holding only the same character,
 *   at least as many times. A longer fence can contain shorter ones (````md around ```js).
 * - The language is the first word of the info string, canonicalized (see
 *   {@link canonicalLanguage}): ```` ```py title="x" ```` gives `python`; `{.python}` works too;
 *   an untagged block has language `""`.
 * - Fences may be indented (model replies nest them in list items); the opening fence's
 *   indentation is removed from the block's lines.
 * - An unterminated fence (a reply cut off mid-block) yields no block.
 */
export function extractCodeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r\n|\r|\n/);
  const blocks: CodeBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = OPENING.exec(lines[i]);
    i++;
    if (!open) continue;
    const [, indent, fence, info] = open;
    // A backtick fence's info string may not contain backticks (CommonMark): that is inline code.
    if (fence[0] === "`" && info.includes("`")) continue;
    const closing = new RegExp(`^[ \\t]*${fence[0] === "`" ? "`" : "~"}{${fence.length},}[ \\t]*$`);
    const body: string[] = [];
    let closed = false;
    while (i < lines.length) {
      const line = lines[i];
      i++;
      if (closing.test(line)) {
        closed = true;
        break;
      }
      body.push(stripIndent(line, indent.length));
    }
    if (!closed) break;
    blocks.push({ language: languageOf(info), code: body.join("\n") });
  }
  return blocks;
}

function languageOf(info: string): string {
  const word =
    info
      .trim()
      .split(/[\s{}]+/)
      .find((w) => w.length > 0) ?? "";
  return canonicalLanguage(word.replace(/^\./, "").replace(/[,;]$/, ""));
}

function stripIndent(line: string, n: number): string {
  let k = 0;
  while (k < n && k < line.length && (line[k] === " " || line[k] === "\t")) k++;
  return line.slice(k);
}
