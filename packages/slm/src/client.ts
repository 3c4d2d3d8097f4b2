/**
 * The task model behind the interfaces the rest of Athanor uses:
 *
 * - `SlmClient`: a `ModelClient`, so the OptiGuide agents run on the embedded model like on
 *   any endpoint. As the writer it answers with the compiled edit in a ```js block; as the
 *   safeguard it passes exactly the edits it compiled itself (anything else is DANGER); as the
 *   interpreter it returns the computed change.
 * - `slmEditSource`: an `EditSource` for the OptiGuide benchmark (`optiguide bench --model`).
 */
import {
  type CreateRequest,
  type CreateResult,
  type LLMMessage,
  type ModelCapabilities,
  type ModelClient,
  type StreamChunk,
  streamFromResult,
} from "@athanor/agents";
import { APP_NAMES, type AppName, type EditSource, isAppName } from "@athanor/optiguide";
import { formatAction } from "./actions/syntax.js";
import type { SlmModel } from "./model/slm.js";

function text(m: LLMMessage | undefined): string {
  if (!m || m.role === "tool") return "";
  if (typeof m.content === "string") return m.content;
  if (Array.isArray(m.content))
    return m.content.map((p) => (p.type === "text" ? p.text : "")).join("");
  return "";
}

/** The app a conversation is about: the writer prompt's `# <app>: ...` heading, or `app: ...`. */
export function appOfMessages(messages: LLMMessage[], fallback?: AppName): AppName | undefined {
  for (const m of messages) {
    if (m.role !== "system") continue;
    const h = /^#\s*([a-z0-9]+)\s*:/m.exec(text(m));
    if (h && isAppName(h[1]!)) return h[1];
  }
  return fallback;
}

export interface SlmClientOptions {
  /** The app to assume when the conversation does not name one. */
  app?: AppName;
  modelId?: string;
}

export class SlmClient implements ModelClient {
  readonly modelId: string;
  readonly capabilities: ModelCapabilities = {
    tools: false,
    vision: false,
    structuredOutput: false,
    streaming: false,
  };
  /** Edits this client wrote (the safeguard passes exactly these). */
  private readonly written = new Set<string>();

  constructor(
    readonly model: SlmModel,
    private readonly options: SlmClientOptions = {},
  ) {
    this.modelId = options.modelId ?? "athanor/slm-default";
  }

  async create(request: CreateRequest): Promise<CreateResult> {
    request.signal?.throwIfAborted();
    const system = text(request.messages.find((m) => m.role === "system"));
    const last = [...request.messages].reverse().find((m) => m.role === "user");
    const input = text(last);
    let content: string;
    let completionTokens = 0;
    if (/review JavaScript edits/i.test(system)) {
      const code = /```(?:js|javascript)?\n([\s\S]*?)```/.exec(input)?.[1]?.trim() ?? input.trim();
      content = this.written.has(code)
        ? "SAFE: an edit compiled from validated actions (data changes and addConstr only)."
        : "DANGER: this edit was not compiled by the task model's action compiler, so it is not reviewed.";
    } else if (/explain the result of a what-if/i.test(system)) {
      const change = /Change against the baseline:\n([\s\S]*)$/.exec(input)?.[1];
      content = change?.trim() ?? "No change against the baseline was given.";
    } else {
      const app = appOfMessages(request.messages, this.options.app);
      if (!app)
        throw new Error(
          `SlmClient: cannot tell which app the question is about (no "# <app>:" heading in the system prompt; apps: ${APP_NAMES.join(", ")}); pass { app }`,
        );
      if (/^Running your edit failed|^Your reply had no/.test(input)) {
        content =
          "I cannot repair this edit: my answers are compiled from validated actions, so there is nothing else to try.";
      } else {
        const { prediction, plan, error } = this.model.plan(app, input);
        completionTokens = prediction.tokens;
        if (!plan) content = `The action "${prediction.line}" is not valid for ${app}: ${error}`;
        else if (!plan.edit)
          content =
            plan.kind === "decline"
              ? `That is not a question about the ${app} model.`
              : `This is a question about the current plan, not a what-if (${plan.actions.map(formatAction).join(" ; ")}); ask \`athanor start\` for its answer.`;
        else {
          this.written.add(plan.edit.code.trim());
          content = `action: ${plan.line}\n\`\`\`js\n${plan.edit.code}\n\`\`\``;
        }
      }
    }
    return {
      content,
      toolCalls: [],
      finishReason: "stop",
      usage: { promptTokens: 0, completionTokens },
      model: this.modelId,
    };
  }

  async *stream(request: CreateRequest): AsyncIterable<StreamChunk> {
    yield* streamFromResult(await this.create(request));
  }
}

/** The benchmark's edit source over the task model: the question's compiled edit, or an error. */
export function slmEditSource(model: SlmModel): EditSource {
  return (app, q) => {
    const { prediction, plan, error } = model.plan(app, q.QUESTION);
    if (!plan) throw new Error(`invalid action "${prediction.line}": ${error}`);
    if (!plan.edit)
      throw new Error(`the model answered with a ${plan.kind} ("${plan.line}"), not a what-if`);
    return plan.edit;
  };
}
