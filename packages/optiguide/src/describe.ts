/**
 * What a writer (a person or a model) needs to edit an app, as Markdown: the data fields with an
 * example value, the variable and constraint families, the edit points, and the edit API. The
 * data's values are shown only as far as the schema needs (a key example per dict).
 */
import type { App } from "./app.js";

export const EDIT_API = `Edits are JavaScript. Return nothing; call the helpers.

- Data edit (kind "data", runs before the model is built): mutate \`data\`.
  Tuple-keyed dicts are objects keyed by the parts joined with commas:
  \`data.cost["Pens,Detroit,Boston"] = 17\`, \`key(a, b)\` builds such a key, \`keys(dict)\` splits them back.
- Constraint edit (kind "constraint", runs after the first solve):
  \`addConstr("x[supplier1,roastery1] >= x[supplier1,roastery2] + 1", "name")\` adds a linear row
  (<=, >=, ==; numbers, + - * /, parentheses, \`sum(x[Bob,*])\` over a wildcard part);
  \`addVar("z[supplier1]", { type: "binary" })\` adds a variable; \`has("x[Gu,Sun7]")\` tests that a
  variable exists; \`value("buy[milk]")\` reads its value in the last solve; \`sum([...])\` joins
  expression strings with " + ". Names keep spaces: \`buy[hot dog]\`.`;

/** Markdown for a writer: the app's data, variables, constraints and edit points, and the edit API. */
export function describeApp(app: App): string {
  const data = app.data();
  const lines = [`# ${app.name}: ${app.title}`, "", "## Data (`data.<field>`)"];
  for (const [field, s] of Object.entries(app.schema)) {
    const v = data[field];
    let example = "";
    if (s.type === "dict" && v && typeof v === "object" && !Array.isArray(v)) {
      const [k, x] = Object.entries(v)[0] ?? [];
      example = k === undefined ? "" : ` e.g. \`data.${field}["${k}"]\` = ${JSON.stringify(x)}`;
    } else if (s.type === "set" || s.type === "list" || s.type === "number" || s.type === "tuples")
      example = ` = \`${JSON.stringify(v).slice(0, 160)}\``;
    lines.push(`- \`${field}\`${s.readonly ? " (read-only)" : ""}: ${s.doc}.${example}`);
  }
  lines.push("", "## Variables");
  for (const [k, d] of Object.entries(app.variableFamilies)) lines.push(`- \`${k}\`: ${d}`);
  lines.push("", "## Constraints");
  for (const [k, d] of Object.entries(app.constraintFamilies)) lines.push(`- \`${k}\`: ${d}`);
  lines.push(
    "",
    "## Edit points",
    `- data: ${app.editPoints.data}`,
    `- constraint: ${app.editPoints.constraint}`,
    "",
    "## Edit API",
    EDIT_API,
  );
  return lines.join("\n");
}
