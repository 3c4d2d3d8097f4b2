/**
 * The team interface: a group of agents that converse until a termination condition fires.
 * Every team is also a ChatAgent, so a team can sit inside another team (nested chats).
 */
import type { ChatAgent, TurnContext } from "../agent.js";
import type { AnyMessage, ChatMessage, Usage } from "../messages.js";

export interface TaskResult {
  /** Everything this `run()` produced, in order: the task, chat messages, events, and the stop message. */
  messages: AnyMessage[];
  /** Why the team stopped (the termination condition's reason), or null when it was not stopped by one. */
  stopReason: string | null;
  /** Tokens used during this run, per agent (a selector's own calls under `<team>/selector`). */
  usage: Record<string, Usage>;
}

/** What `runStream()` yields: every message and event as it happens, then the result. */
export type TeamStreamItem = AnyMessage | { type: "task_result"; result: TaskResult };

export type Task = string | ChatMessage | ChatMessage[];

export interface RunOptions extends TurnContext {
  /** What to do; omit it to continue the conversation where the last run stopped. */
  task?: Task;
  /**
   * Load the latest checkpoint of the team's thread first (when there is one). A run that was
   * interrupted (process killed, cancelled) continues from its last completed turn and the
   * task is not added again; a run that had finished continues the conversation with `task`.
   */
  resume?: boolean;
}

export interface Team extends ChatAgent {
  run(options?: RunOptions | Task): Promise<TaskResult>;
  runStream(options?: RunOptions | Task): AsyncGenerator<TeamStreamItem, void, undefined>;
  /** Finishes the turn in progress, then waits until `resume()`. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** The conversation so far: every chat message, across runs (until `reset`). */
  readonly transcript: readonly ChatMessage[];
  /** Tokens used since the last reset, per agent. */
  readonly usage: Readonly<Record<string, Usage>>;
}

export function isTaskResultItem(
  item: TeamStreamItem,
): item is { type: "task_result"; result: TaskResult } {
  return item.type === "task_result";
}
