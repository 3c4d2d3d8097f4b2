/**
 * The AutoGen paper's application A1, math problem solving: an assistant solves a competition
 * problem by writing code, a code executor runs it (here in the QuickJS sandbox), and the
 * assistant reads the output and answers. The paper reports this two-agent setup solving more
 * MATH problems than GPT-4 alone or the other multi-agent systems it compared.
 *
 *   npx tsx packages/agents/examples/math-code-execution.ts            # offline, from the fixture
 *   npx tsx packages/agents/examples/math-code-execution.ts --live     # against your endpoint
 */
import {
  AssistantAgent,
  CodeExecutorAgent,
  MaxMessageTermination,
  type ModelClient,
  type ReplayResult,
  RoundRobinGroupChat,
  SandboxedJsExecutor,
  TextMentionTermination,
} from "../src/index.js";
import { exampleModel, isMain, parseArgs, printRun } from "./shared.js";

export const MATH_TASK =
  "What is the sum of all positive integers n < 100 such that n^2 + 1 is divisible by 5?";

export const SOLVER_SYSTEM_MESSAGE = `You solve math problems step by step. When computing helps, write ONE fenced \`\`\`javascript block that prints the result with console.log; it is run for you and you see its output. When you know the answer, state it as \\boxed{answer} and end with TERMINATE.`;

/** The solver's answers used to author the offline fixture (a live model writes its own). */
export const AUTHORED: ReplayResult[] = [
  "n^2 + 1 is divisible by 5 exactly when n^2 ≡ 4 (mod 5), i.e. n ≡ 2 or 3 (mod 5). Let me sum those n below 100 by brute force to be safe.\n```javascript\nlet sum = 0;\nfor (let n = 1; n < 100; n++) if ((n * n + 1) % 5 === 0) sum += n;\nconsole.log(sum);\n```",
  "The program prints 2000, which matches the residue argument: 2 + 7 + ... + 97 = 990 and 3 + 8 + ... + 98 = 1010.\n\n\\boxed{2000}\n\nTERMINATE",
];

export function mathTeam(model: ModelClient) {
  const solver = new AssistantAgent("solver", {
    modelClient: model,
    systemMessage: SOLVER_SYSTEM_MESSAGE,
  });
  const executor = new SandboxedJsExecutor({ timeoutMs: 5_000 });
  const runner = new CodeExecutorAgent("code_runner", { executor, sources: ["solver"] });
  const team = new RoundRobinGroupChat([solver, runner], {
    name: "math",
    termination: new TextMentionTermination("TERMINATE", { sources: ["solver"] }).or(
      new MaxMessageTermination(12),
    ),
  });
  return { team, dispose: () => executor.dispose() };
}

if (isMain(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const model = exampleModel("math-code-execution", {
    live: args.live,
    record: args.record,
    ...(args.author ? { author: AUTHORED } : {}),
  });
  const { team, dispose } = mathTeam(model);
  try {
    await printRun(team, args.task ?? MATH_TASK);
  } finally {
    await dispose();
  }
}
