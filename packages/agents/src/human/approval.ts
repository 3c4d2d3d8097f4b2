/**
 * Approval callbacks: a human (or a policy) approves each tool call and each code execution
 * before it happens. A refusal is not an error: the model reads why it was refused.
 */
import type { CodeBlock } from "../code/executor.js";
import { type Tool, ToolError } from "../tools/tool.js";

export type ApprovalRequest =
  | { kind: "tool_call"; tool: string; arguments: unknown; callId?: string }
  | { kind: "code_execution"; blocks: CodeBlock[] };

export interface ApprovalDecision {
  approved: boolean;
  reason?: string;
}

/** Decides one request; may take as long as a human needs (the signal cancels it). */
export type Approver = (
  request: ApprovalRequest,
  signal?: AbortSignal,
) => Promise<ApprovalDecision | boolean>;

function normalize(d: ApprovalDecision | boolean): ApprovalDecision {
  return typeof d === "boolean" ? { approved: d } : d;
}

/** A tool that asks `approve` before every call; a refused call returns the refusal to the model. */
export function requireApproval(tool: Tool, approve: Approver): Tool {
  return {
    name: tool.name,
    description: tool.description,
    parameters: tool.parameters,
    timeoutMs: tool.timeoutMs,
    async run(args, ctx) {
      const decision = normalize(
        await approve(
          { kind: "tool_call", tool: tool.name, arguments: args, callId: ctx.callId },
          ctx.signal,
        ),
      );
      if (!decision.approved) {
        throw new ToolError(
          `The call to ${tool.name} was not approved.${decision.reason ? ` Reason: ${decision.reason}` : ""}`,
        );
      }
      return tool.run(args, ctx);
    },
  };
}

/** Adapts an Approver to CodeExecutorAgent's `approval` option. */
export function codeExecutionApproval(
  approve: Approver,
): (blocks: CodeBlock[]) => Promise<ApprovalDecision> {
  return async (blocks) => normalize(await approve({ kind: "code_execution", blocks }));
}

/** "Approve ...? (yes/no)", as a human reads it. */
export function describeApprovalRequest(request: ApprovalRequest): string {
  if (request.kind === "tool_call") {
    return `Approve the call ${request.tool}(${JSON.stringify(request.arguments)})? (yes/no, or a reason to refuse)`;
  }
  const code = request.blocks.map((b) => "```" + b.language + "\n" + b.code + "\n```").join("\n");
  return `Approve running this code?\n${code}\n(yes/no, or a reason to refuse)`;
}

/**
 * An Approver that asks a human through any input function (the terminal, a HumanInputQueue
 * fed by HTTP, ...): "y"/"yes"/"approve"/"ok" approves; anything else refuses, with the
 * answer as the reason.
 */
export function approvalFromInput(
  input: (prompt: string, signal?: AbortSignal) => Promise<string>,
): Approver {
  return async (request, signal) => {
    const answer = (await input(describeApprovalRequest(request), signal)).trim();
    if (/^(y|yes|approve|approved|ok)$/i.test(answer)) return { approved: true };
    return {
      approved: false,
      reason: /^(n|no)$/i.test(answer) || answer === "" ? "refused by the user" : answer,
    };
  };
}
