import type { ChatAgent, JsonValue } from "../agent.js";
import type { ChatMessage } from "../messages.js";
import { BaseGroupChat, type GroupChatOptions, type SpeakerSelection } from "./base-group-chat.js";

/**
 * Agents hand the conversation to each other with handoff messages: the target of the latest
 * handoff speaks next, and an agent keeps the floor until it hands off. The first participant
 * speaks first, unless the task itself is a handoff. Pair with `HandoffTermination("user")`
 * to stop when an agent hands off to a human, then `run()` again with the human's handoff.
 */
export class Swarm extends BaseGroupChat {
  constructor(participants: readonly ChatAgent[], options: GroupChatOptions = {}) {
    super(participants, { ...options, defaultName: "swarm" });
  }

  protected async selectSpeakers(thread: readonly ChatMessage[]): Promise<SpeakerSelection> {
    for (let i = thread.length - 1; i >= 0; i--) {
      const m = thread[i];
      if (m.type !== "handoff") continue;
      if (!this.byName.has(m.target)) {
        throw new Error(
          `${this.name}: ${m.source} handed off to ${JSON.stringify(m.target)}, which is not a participant (${[...this.byName.keys()].join(", ")}); add a HandoffTermination(${JSON.stringify(m.target)}) if that target is outside the team`,
        );
      }
      return { speakers: [m.target] };
    }
    return { speakers: [this.participants[0].name] };
  }

  protected saveManagerState(): JsonValue {
    return null;
  }

  protected loadManagerState(): void {}

  protected resetManager(): void {}
}
