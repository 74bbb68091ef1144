import type { Message } from "../../control/raft/messages";

/** One-line rendering of a message for failure traces. */
export function formatMessage(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case "app":
      return `${head} prev=${m.index}/${m.logTerm} +[${m.entries.map((e) => `${e.index}:${e.term}`).join(",")}] c=${m.commit}`;
    case "appResp":
      return `${head} i=${m.index}${m.reject ? ` REJECT hint=${m.rejectHint}/${m.hintTerm}` : ""}`;
    case "vote":
    case "preVote":
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.force ? " force" : ""}`;
    case "voteResp":
    case "preVoteResp":
      return `${head} ${m.reject ? "REJECT" : "grant"}`;
    case "heartbeat":
      return `${head} c=${m.commit} r=${m.readSeq}`;
    case "heartbeatResp":
      return `${head} r=${m.readSeq}`;
    case "snap":
      return `${head} snap=${m.meta.index}/${m.meta.term} off=${m.offset} len=${m.chunk.length}${m.done ? " done" : ""}`;
    case "snapResp":
      return `${head} snap=${m.index} off=${m.offset}`;
    case "prop":
      return `${head} n=${m.entries.length}`;
    case "readIndex":
      return `${head} ${m.ctx}`;
    case "readIndexResp":
      return `${head} ${m.ctx} i=${m.index}`;
    default:
      return head;
  }
}

/** The last N simulator events, kept cheaply (messages are formatted only when printed). */
export class TraceRing {
  private items: { at: number; what: string | Message }[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** Records a free-form line. */
  add(at: number, line: string): void {
    this.push({ at, what: line });
  }

  /** Records a delivered message. */
  addMessage(at: number, m: Message): void {
    this.push({ at, what: m });
  }

  private push(item: { at: number; what: string | Message }): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** The recorded events, oldest first, one per line. */
  format(): string {
    const ordered = [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
    return ordered
      .map(({ at, what }) => `  t=${at} ${typeof what === "string" ? what : formatMessage(what)}`)
      .join("\n");
  }
}
