/** The oracle: each question's own ground-truth snippet, translated into the edit form. */
import type { App } from "./app.js";
import type { Edit } from "./edit.js";
import { type Question, questionCode } from "./questions.js";
import { type TranslateContext, translateSnippet } from "./translate/translate.js";

const contexts = new WeakMap<App, TranslateContext>();

/** What the translator needs about an app: its data names and its model's variable families. */
export function translateContext(app: App): TranslateContext {
  let ctx = contexts.get(app);
  if (!ctx) {
    const data = app.data();
    ctx = { data, families: app.build(data).families() };
    contexts.set(app, ctx);
  }
  return ctx;
}

/** The edit that the question's DATA CODE / CONSTRAINT CODE makes, in the edit form. */
export function oracleEdit(app: App, q: Question): Edit {
  return translateSnippet(questionCode(q), translateContext(app));
}
