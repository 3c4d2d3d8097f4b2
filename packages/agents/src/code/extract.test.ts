import { describe, expect, it } from "vitest";
import { extractCodeBlocks } from "./extract.js";
import { canonicalLanguage } from "./languages.js";

describe("extractCodeBlocks", () => {
  it("extracts backtick and tilde blocks in order", () => {
    const md = "Run this:\n```python\nprint(1)\nprint(2)\n```\nthen\n~~~bash\necho hi\n~~~\n";
    expect(extractCodeBlocks(md)).toEqual([
      { language: "python", code: "print(1)\nprint(2)" },
      { language: "bash", code: "echo hi" },
    ]);
  });

  it("canonicalizes language aliases", () => {
    const tags = [
      "sh",
      "bash",
      "shell",
      "py",
      "python",
      "python3",
      "js",
      "javascript",
      "node",
      "ts",
      "Python",
    ];
    const md = tags.map((t) => `\`\`\`${t}\nx\n\`\`\``).join("\n");
    expect(extractCodeBlocks(md).map((b) => b.language)).toEqual([
      "sh",
      "bash",
      "bash",
      "python",
      "python",
      "python",
      "javascript",
      "javascript",
      "javascript",
      "typescript",
      "python",
    ]);
  });

  it("takes the first word of the info string, and pandoc-style {.lang}", () => {
    const md = '```py title="a.py" {linenos}\n1\n```\n```{.js}\n2\n```\n```\n3\n```';
    expect(extractCodeBlocks(md)).toEqual([
      { language: "python", code: "1" },
      { language: "javascript", code: "2" },
      { language: "", code: "3" },
    ]);
  });

  it("ignores an unterminated fence but keeps the blocks before it", () => {
    expect(extractCodeBlocks("```sh\necho ok\n```\ntext\n```python\nprint('cut off")).toEqual([
      { language: "sh", code: "echo ok" },
    ]);
    expect(extractCodeBlocks("```python\nprint(1)\n")).toEqual([]);
  });

  it("needs a closing fence of the same character and at least the same length", () => {
    const md = "````markdown\n```js\ninner\n```\n~~~~\n````\n";
    expect(extractCodeBlocks(md)).toEqual([
      { language: "markdown", code: "```js\ninner\n```\n~~~~" },
    ]);
    const tildes = "~~~sh\necho a\n```\necho b\n~~~~~\n";
    expect(extractCodeBlocks(tildes)).toEqual([{ language: "sh", code: "echo a\n```\necho b" }]);
  });

  it("does not close on a fence line with trailing text", () => {
    expect(extractCodeBlocks("```sh\necho a\n```not-a-close\necho b\n```")).toEqual([
      { language: "sh", code: "echo a\n```not-a-close\necho b" },
    ]);
  });

  it("treats ``` followed by backticks in the info string as inline code, not a fence", () => {
    expect(extractCodeBlocks("```a` b``` is inline\n```sh\nls\n```")).toEqual([
      { language: "sh", code: "ls" },
    ]);
  });

  it("strips the opening fence's indentation (blocks nested in list items)", () => {
    const md = "1. Install:\n   ```bash\n   pip install x\n     indented\n   ```\n";
    expect(extractCodeBlocks(md)).toEqual([
      { language: "bash", code: "pip install x\n  indented" },
    ]);
  });

  it("handles CRLF line endings, empty blocks and blank lines inside blocks", () => {
    expect(extractCodeBlocks("```js\r\nlet a = 1;\r\n\r\nlet b = 2;\r\n```\r\n```py\n```")).toEqual(
      [
        { language: "javascript", code: "let a = 1;\n\nlet b = 2;" },
        { language: "python", code: "" },
      ],
    );
  });

  it("returns nothing for text without fences", () => {
    expect(extractCodeBlocks("")).toEqual([]);
    expect(extractCodeBlocks("just `inline` code and ``two``")).toEqual([]);
  });
});

describe("canonicalLanguage", () => {
  it("keeps unknown tags, lower-cased", () => {
    expect(canonicalLanguage(" Ruby ")).toBe("ruby");
    expect(canonicalLanguage("zsh")).toBe("bash");
  });
});
