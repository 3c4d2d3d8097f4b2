/**
 * Chat templates from `tokenizer_config.json` (`chat_template`), rendered with
 * `@huggingface/jinja` exactly as `transformers`' `apply_chat_template` renders them.
 */

import { Template } from "@huggingface/jinja";
import { readFileSync } from "../node.js";

export interface ChatTurn {
  role: string;
  content: string;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;
  /** Extra variables the template may use (tools, date_string, ...). */
  variables?: Record<string, unknown>;
}

function tokenContent(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return undefined;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    readonly specialTokens: {
      bos_token?: string;
      eos_token?: string;
      pad_token?: string;
      unk_token?: string;
    } = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (err) {
      throw new Error(`chat template does not parse: ${(err as Error).message}`);
    }
  }

  /** Reads `chat_template` and the special tokens from a tokenizer_config.json. */
  static fromTokenizerConfig(path: string): ChatTemplate {
    const config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    let source = config.chat_template;
    if (Array.isArray(source)) {
      source = (source as { name: string; template: string }[]).find(
        (t) => t.name === "default",
      )?.template;
    }
    if (typeof source !== "string") {
      throw new Error(`${path}: chat_template: missing (this tokenizer has no chat template)`);
    }
    return new ChatTemplate(source, {
      bos_token: tokenContent(config.bos_token),
      eos_token: tokenContent(config.eos_token),
      pad_token: tokenContent(config.pad_token),
      unk_token: tokenContent(config.unk_token),
    });
  }

  render(messages: ChatTurn[], options: ChatTemplateOptions = {}): string {
    return this.template.render({
      ...this.specialTokens,
      ...options.variables,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? false,
    });
  }
}
