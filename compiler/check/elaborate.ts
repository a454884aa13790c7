// The checker: runs a model's spec with concrete parameters (defaults plus overrides), the way a
// hardware generator elaborates its loops. Every channel count, spatial size and parameter name
// follows from the run; every error is reported with the span of the text that caused it. Values
// whose error was already reported are `poison`, so one mistake yields one message; an error that
// ends checking (a failed `require`, a limit of limits.ts) stops the run with an Abort.
// The parts live in ./elaborate/: statements, expressions, arithmetic (broadcasting), arguments
// (binding and conforming), calls (functions, layers, blocks) and seq; context.ts holds the state.
import { diag } from "../diagnostics/diagnostic.js";
import type { Span } from "../diagnostics/source.js";
import type * as A from "../front/ast.js";
import { conformParam, declaredType } from "./elaborate/arguments.js";
import { ElabContext, type Frame, type Override } from "./elaborate/context.js";
import { evalExpr } from "./elaborate/expressions.js";
import { execStmts } from "./elaborate/statements.js";
import { Abort } from "./limits.js";
import type { ModelGraph } from "./model-graph.js";
import { suggestionHelp } from "./suggest.js";
import { conform, T, typeOfValue, typeText } from "./types.js";
import { describeValue, NONE, POISON, valueToJson, type Value } from "./values.js";

export type { Override, Program } from "./elaborate/context.js";

export class Elaborator extends ElabContext {
  eval(e: A.Expr, frame: Frame): Value {
    return evalExpr(this, e, frame);
  }

  execBlock(stmts: A.Stmt[], frame: Frame): void {
    execStmts(this, stmts, frame);
  }

  // ---- the model ----

  run(model: A.BlockDecl, overrides: Override[], name = model.name.name): ModelGraph | undefined {
    this.model = model;
    try {
      return this.runModel(model, overrides, name);
    } catch (err) {
      if (err instanceof Abort) return undefined;
      if (!(err instanceof RangeError)) throw err;
      // The limits should keep the stack bounded; should one be missed, this is still an error
      // with a place, not a crash.
      this.diagnostics.push(diag("E0604", "the spec nests too deeply to check", { span: this.at ?? model.name.span, label: "while checking this" }));
      return undefined;
    }
  }

  private runModel(model: A.BlockDecl, overrides: Override[], name: string): ModelGraph | undefined {
    const frame: Frame = { decl: model, scope: new Map(), path: "", returned: false, ret: NONE };
    const config: Record<string, unknown> = {};
    const byKey = new Map(overrides.map((o) => [o.key, o]));
    for (const o of overrides) {
      if (model.params.some((p) => p.name.name === o.key)) this.overridden.set(o.key, o);
      else {
        this.report("E0103", `model \`${model.name.name}\` has no parameter \`${o.key}\``, {
          span: o.keySpan,
          label: "unknown key",
          help: suggestionHelp(o.key, model.params.map((p) => p.name.name)) ?? `its parameters are ${model.params.map((p) => `\`${p.name.name}\``).join(", ")}`,
          secondary: [{ span: model.name.span, message: "model defined here" }],
        });
      }
    }
    for (const p of model.params) {
      const o = byKey.get(p.name.name);
      const declared = declaredType(this, p);
      let value: Value;
      frame.defaulting = p;
      if (o) {
        const t = declared ?? (p.default ? typeOfValue(this.eval(p.default, frame)) : T.any);
        const r = conform(o.value, t);
        if (!r.ok) {
          this.report("E0202", `\`--set ${o.key}\`: ${r.reason}`, { span: o.span, expected: typeText(t), found: describeValue(o.value), secondary: [{ span: p.span, message: "parameter declared here" }] });
          value = POISON;
        } else value = r.value;
      } else if (p.default) {
        value = conformParam(this, p, this.eval(p.default, frame), declared, p.default.span);
      } else {
        this.report("E0104", `model parameter \`${p.name.name}\` has no default and no value was given`, { span: p.span, help: `pass one with \`--set ${p.name.name}=VALUE\`` });
        value = POISON;
      }
      frame.defaulting = undefined;
      frame.scope.set(p.name.name, value);
      config[p.name.name] = valueToJson(value);
    }
    this.execBlock(model.body, frame);
    if (!frame.returned) {
      this.report("E0601", `model \`${model.name.name}\` does not return its output`, { span: model.name.span, help: "end the model with `return EXPR`" });
      return undefined;
    }
    const out = frame.ret;
    this.skips.checkBalanced(model.name.name, this.returnSpan(model) ?? model.name.span);
    if (out.t === "tensor" && out.shape.length !== 3 && out.shape.length !== 1) {
      this.report("E0306", `a model returns an image [C, H, W] (a denoiser) or a vector [K] of class logits (a classifier), found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    } else if (out.t !== "tensor" && out.t !== "poison") {
      this.report("E0201", `a model returns an image, found ${describeValue(out)}`, { span: this.returnSpan(model) ?? model.name.span });
    }
    if (this.diagnostics.some((d) => d.severity === "error") || out.t !== "tensor") return undefined;
    return { name, config, inputs: this.inputs, nodes: this.nodes, output: out.node, parameters: this.names.params };
  }

  private returnSpan(model: A.BlockDecl): Span | undefined {
    return [...model.body].reverse().find((s) => s.kind === "return")?.span;
  }
}
