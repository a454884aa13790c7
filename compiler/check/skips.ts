// The skip stack of an elaboration: `save x` pushes, `skip` takes the most recent save. Saves and
// skips must balance; when they do not, the error names both places (E0401: the failing `skip` and
// where the last activation was taken or saved; E0402: the unused save and the last `skip`).
//
// One mistake, one message: a save of a value whose error was already reported pushes a poisoned
// entry (a skip that takes it is poisoned too, silently; left over, it is not reported), and code that did not run because of an
// earlier error may have held saves or skips, so after it the stack is not known exactly and an
// imbalance is not reported.
import type { DiagnosticInit } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import type { Span } from "../diagnostics/source.js";
import { POISON, shapeText, type TensorValue, type Value } from "./values.js";

interface Saved {
  /** Undefined when the saved value was poison. */
  value?: TensorValue;
  span: Span;
  path: string;
}

type Report = (code: DiagnosticCode, message: string, init: DiagnosticInit) => Value;

const sameSpan = (a: Span, b: Span) => a.file === b.file && a.start === b.start && a.end === b.end;

export class SkipStack {
  private readonly saved: Saved[] = [];
  private exact = true;
  /** The last `skip` that took an activation, and where that activation was saved. */
  private last?: { span: Span; savedAt: Span };

  constructor(private readonly report: Report) {}

  /** Code that may save or skip did not run (an earlier error): balance is no longer checked. */
  lose(): void {
    this.exact = false;
  }

  save(value: Value, span: Span, path: string): void {
    this.saved.push({ value: value.t === "tensor" ? value : undefined, span, path });
  }

  take(span: Span): Value {
    const s = this.saved.pop();
    if (!s) {
      if (!this.exact) return POISON;
      // The second place: the `skip` that took the last activation; when that is this very `skip`
      // (an earlier iteration of its loop), the `save` of that activation.
      const last = this.last;
      const secondary = !last
        ? []
        : !sameSpan(last.span, span)
          ? [{ span: last.span, message: "the last saved activation was taken here" }]
          : [{ span: last.savedAt, message: "the last activation was saved here, and an earlier pass of this `skip` took it" }];
      return this.report("E0401", "`skip` takes a saved activation, but none is left", {
        span,
        label: "nothing to take here",
        secondary,
        help: "every `skip` needs a matching `save` earlier in the model: save one more activation on the way down, or use one less skip on the way up",
      });
    }
    this.last = { span, savedAt: s.span };
    return s.value ? { ...s.value, savedAt: s.span } : POISON;
  }

  /** At the end of a model: every save must have been taken (E0402, one per save site). */
  checkBalanced(modelName: string, end: Span): void {
    // A poisoned save is left over when the error that poisoned it also changed the loops around it
    // (`--set nfs=[]`): that error was reported, this would only follow from it.
    const unused = this.saved.filter((s) => s.value !== undefined);
    if (unused.length === 0 || !this.exact) return;
    const bySite = new Map<number, Saved[]>();
    for (const s of unused) bySite.set(s.span.start, [...(bySite.get(s.span.start) ?? []), s]);
    const total = unused.length;
    for (const group of bySite.values()) {
      const first = group[0];
      const n = group.length;
      const where = group.map((g) => g.path || "the model's top level").slice(0, 4).join(", ");
      this.report("E0402", `${n === 1 ? "an activation saved here is" : `${n} activations saved here are`} never used by a \`skip\``, {
        span: first.span,
        label: `saved ${shapeText(first.value!.shape)} in ${where}${n > 4 ? ", ..." : ""}`,
        secondary: this.last ? [{ span: this.last.span, message: "the last `skip` is here; saves and skips must balance" }] : [{ span: end, message: "the model ends here" }],
        notes: [`${total} saved activation${total === 1 ? " remains" : "s remain"} unused at the end of \`${modelName}\``],
        help: "add a `skip` for each save (for instance one more resblock per up level), or remove the `save`",
      });
    }
  }
}
