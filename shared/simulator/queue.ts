/**
 * The SQS queue as arrival buckets: each holds a count of messages that arrived at one instant and
 * how many times they were received. Taking messages takes the oldest first (a standard queue is
 * only roughly ordered; at a backlog's scale the difference is small). Messages a failed batch
 * leaves become visible again after the visibility timeout, ahead of newer ones.
 */

export interface Segment {
  /** Arrival time, ms from the start. */
  readonly at: number;
  count: number;
  /** Receives so far. */
  readonly receives: number;
}

export class ArrivalQueue {
  private segments: Segment[] = [];
  private head = 0;
  private visible = 0;
  /** Failed messages waiting out their visibility timeout, in the order they failed. */
  private hidden: { visibleAt: number; segment: Segment }[] = [];
  private hiddenCount = 0;

  get visibleCount(): number {
    return this.visible;
  }

  /** Visible and invisible (waiting out a visibility timeout) messages; in-flight batches are not counted. */
  get size(): number {
    return this.visible + this.hiddenCount;
  }

  push(at: number, count: number, receives = 0): void {
    if (count <= 0) return;
    this.segments.push({ at, count, receives });
    this.visible += count;
  }

  /** Messages that failed at `now` come back at `visibleAt`. */
  hide(visibleAt: number, segment: Segment): void {
    this.hidden.push({ visibleAt, segment });
    this.hiddenCount += segment.count;
  }

  /** Moves the messages whose visibility timeout has passed back to the front. */
  release(now: number): void {
    if (this.hidden.length === 0 || this.hidden[0]!.visibleAt > now) return;
    const back: Segment[] = [];
    while (this.hidden.length > 0 && this.hidden[0]!.visibleAt <= now) {
      const { segment } = this.hidden.shift()!;
      this.hiddenCount -= segment.count;
      this.visible += segment.count;
      back.push(segment);
    }
    this.compact();
    this.segments = [...back, ...this.segments];
  }

  /** Takes up to `n` visible messages, oldest first; appends their segments to `into`. */
  take(n: number, into: Segment[]): number {
    let taken = 0;
    while (taken < n && this.head < this.segments.length) {
      const s = this.segments[this.head]!;
      const part = Math.min(s.count, n - taken);
      if (part === s.count) {
        into.push(s);
        this.head++;
      } else {
        into.push({ at: s.at, count: part, receives: s.receives });
        s.count -= part;
      }
      taken += part;
    }
    this.visible -= taken;
    if (this.head > 4096 && this.head * 2 > this.segments.length) this.compact();
    return taken;
  }

  private compact(): void {
    this.segments = this.segments.slice(this.head);
    this.head = 0;
  }
}
