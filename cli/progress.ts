// Progress on a terminal (cli-progress bars on stderr); plain lines on stdout otherwise, or on
// stderr too under --json (see cli/json-output.ts), where stdout is the JSON object alone.
import { SingleBar } from "cli-progress";
import { formatSeconds } from "../runtime/train/duration.js";
import type { ProgressEvent, TrainReporter } from "../runtime/train/loop.js";
import { print } from "./report.js";

/** The train command's reporter: a bar per epoch on a terminal, a line per log step otherwise; lines go to `say`. */
export function trainReporter(say: (line: string) => void = print): TrainReporter & { close(): void } {
  const tty = process.stderr.isTTY === true;
  let bar: SingleBar | undefined;
  let epochs = 0;
  const payload = (e: Partial<ProgressEvent>) => ({
    ep: `${e.epoch ?? "?"}/${e.epochs ?? epochs}`,
    loss: e.loss === undefined ? "-" : e.loss.toFixed(4),
    rate: e.stepsPerSecond === undefined ? "-" : e.stepsPerSecond.toFixed(2),
    left: e.etaSeconds === undefined ? "-" : formatSeconds(e.etaSeconds),
  });
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    info: (line) => say(line),
    epochStart: (epoch, n, steps, start) => {
      epochs = n;
      if (!tty) return;
      bar = new SingleBar(
        { format: "epoch {ep} |{bar}| {value}/{total} | loss {loss} | {rate} steps/s | ETA {left}", stream: process.stderr, hideCursor: true, barsize: 30, fps: 5 },
        { barCompleteChar: "\u2588", barIncompleteChar: "\u2591", format: "" },
      );
      bar.start(steps, start, payload({ epoch, epochs: n }));
    },
    progress: (e) => {
      if (bar) bar.update(e.batch, payload(e));
      else say(`epoch ${e.epoch}/${e.epochs} step ${e.batch}/${e.stepsInEpoch}: loss ${e.loss.toFixed(4)}, lr ${e.lr.toExponential(2)}, ${e.stepsPerSecond.toFixed(2)} steps/s, ETA ${formatSeconds(e.etaSeconds)}`);
    },
    evaluating: stop,
    epochEnd: (e) => {
      stop();
      const acc = e.evalAccuracy === null || e.evalAccuracy === undefined ? "" : `, accuracy ${(100 * e.evalAccuracy).toFixed(2)}%`;
      const ev = e.evalLoss === null ? "" : `, eval loss ${e.evalLoss.toFixed(4)}${acc}`;
      say(`epoch ${e.epoch}/${e.epochs}: train loss ${e.trainLoss.toFixed(4)}${ev} (${formatSeconds(e.seconds)}, ${e.stepsPerSecond.toFixed(2)} steps/s); checkpoint written`);
    },
    close: stop,
  };
}

/** A progress bar over the sampler's steps on a terminal (none when stderr is not one). */
export function samplingBar(): SingleBar | undefined {
  if (process.stderr.isTTY !== true) return undefined;
  return new SingleBar(
    { format: "sampling |{bar}| {value}/{total} steps | ETA {eta_formatted}", stream: process.stderr, hideCursor: true, barsize: 30 },
    { barCompleteChar: "\u2588", barIncompleteChar: "\u2591", format: "" },
  );
}

/** Advances `bar` after sampler step i of total (starting it at the first). */
export function barStep(bar: SingleBar | undefined, i: number, total: number): void {
  if (!bar) return;
  if (i === 0) bar.start(total, 0);
  bar.update(i + 1);
}
