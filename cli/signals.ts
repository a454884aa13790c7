// Ctrl-C (and SIGTERM) during training: the first finishes the current step and writes a
// checkpoint; a second quits at once. Exit codes 130 and 143, as a shell's for these signals.
import type { StopControl } from "../runtime/ablate/options.js";

export const signalExitCode = (s: NodeJS.Signals): number => (s === "SIGINT" ? 130 : 143);

export class SignalStop implements StopControl {
  signal: NodeJS.Signals | undefined;
  private readonly handler = (s: NodeJS.Signals): void => {
    if (this.signal) {
      if (this.again) process.stderr.write(this.again(s));
      process.exit(signalExitCode(s));
    }
    this.signal = s;
    process.stderr.write(this.first(s));
  };

  /** `first` and `again` give the text written to stderr on the first and the second signal. */
  constructor(
    private readonly first: (s: NodeJS.Signals) => string,
    private readonly again?: (s: NodeJS.Signals) => string,
  ) {}

  arm(): void {
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
  }

  disarm(): void {
    process.off("SIGINT", this.handler);
    process.off("SIGTERM", this.handler);
  }

  requested(): boolean {
    return this.signal !== undefined;
  }
}
