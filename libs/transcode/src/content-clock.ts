/** A run of input frames that followed each other on the stream's clock. */
interface Span {
  /** Content time (ms of audio fed to the encoder) where the run starts. */
  start: number;
  /** Stream dts of that point. */
  dts: number;
}

/**
 * Places a transcoder's output on the stream's clock. The encoder sees the input frames back to back, so its
 * output is timed in content time (ms of audio fed); this keeps, for each run of input frames that followed
 * each other, where the run starts in content time and on the stream's clock. An output packet at content
 * time t gets the dts of the input at t: a gap in the input stays a gap, and the output cannot drift from the
 * input (each run is anchored to its input's dts).
 */
export class ContentClock {
  private spans: Span[] = [];
  private fed = 0;
  private lastPlaced = -Infinity;

  constructor(
    /** An input frame this far (ms) from where its run predicts it still continues the run (dts rounding). */
    private readonly tolerance = 2,
    /** Runs kept waiting for output (bounded whatever the input does). */
    private readonly maxSpans = 1024,
  ) {}

  /** Content time fed so far, ms. */
  get contentTime(): number {
    return this.fed;
  }

  /** An input frame of `duration` ms with this dts goes to the encoder. */
  input(dts: number, duration: number): void {
    const last = this.spans[this.spans.length - 1];
    if (!last || Math.abs(last.dts + (this.fed - last.start) - dts) > this.tolerance) {
      this.spans.push({ start: this.fed, dts });
      if (this.spans.length > this.maxSpans) this.spans.shift();
    }
    this.fed += duration;
  }

  /**
   * The stream dts of content time `t` (ms, from the first input's start), never before the previous one
   * placed; undefined before any input. Runs wholly before `t` are forgotten: output comes in content order.
   */
  place(t: number): number | undefined {
    while (this.spans.length > 1 && this.spans[1].start <= t) this.spans.shift();
    const span = this.spans[0];
    if (!span) return undefined;
    const dts = Math.max(span.dts + (t - span.start), this.lastPlaced);
    this.lastPlaced = dts;
    return dts;
  }
}
