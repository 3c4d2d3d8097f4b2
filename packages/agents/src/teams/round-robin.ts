import type { ChatAgent, JsonValue } from "../agent.js";
import { BaseGroupChat, type GroupChatOptions, type SpeakerSelection } from "./base-group-chat.js";

/** Participants take turns in order, each seeing everything said since its last turn. */
export class RoundRobinGroupChat extends BaseGroupChat {
  private next = 0;

  constructor(participants: readonly ChatAgent[], options: GroupChatOptions = {}) {
    super(participants, { ...options, defaultName: "round_robin_group_chat" });
  }

  protected async selectSpeakers(): Promise<SpeakerSelection> {
    const speaker = this.participants[this.next].name;
    this.next = (this.next + 1) % this.participants.length;
    return { speakers: [speaker] };
  }

  protected saveManagerState(): JsonValue {
    return { next: this.next };
  }

  protected loadManagerState(state: JsonValue): void {
    const next = (state as { next?: unknown } | null)?.next;
    this.next = typeof next === "number" && next >= 0 && next < this.participants.length ? next : 0;
  }

  protected resetManager(): void {
    this.next = 0;
  }
}
