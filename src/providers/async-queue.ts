/** A push-based async iterable: producers push/end/fail, one consumer iterates. Used for streamed audio and text. */

/** Single-consumer queue exposed as an AsyncIterable. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private done = false;
  private failure: unknown;
  private failed = false;

  /** Enqueue a value; ignored after end/fail. */
  push(item: T): void {
    if (this.done) return;
    this.items.push(item);
    this.wake();
  }

  /** End the stream after buffered items are consumed. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.wake();
  }

  /** Fail the stream: buffered items are still delivered, then the error is thrown. */
  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failed = true;
    this.failure = error;
    this.wake();
  }

  /** Drop buffered items and end now (barge-in). */
  discard(): void {
    this.items.length = 0;
    this.end();
  }

  get ended(): boolean {
    return this.done;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.items.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.done) {
        if (this.failed) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }
}
